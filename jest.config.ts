import type { Config } from 'jest';

// ESM all the way: the package is "type": "module" (nanoid >= 4 is ESM-only), so jest runs with
// --experimental-vm-modules and ts-jest's ESM mode. Type checking is done once by `tsc --noEmit`
// in scripts/test.sh; ts-jest only transpiles (isolatedModules), which keeps the suite fast.
const config: Config = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30_000,
  // Integration and e2e tests bind real ports and start real processes; two workers suit a 2-core machine.
  maxWorkers: 2,
};

export default config;
