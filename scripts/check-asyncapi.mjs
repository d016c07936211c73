#!/usr/bin/env node
// Validate docs/asyncapi.yaml with @asyncapi/parser and print what it describes, as JSON:
// {errors: [...], warnings: n, operations: {<id>: {action, address, events: [...], generic: n}}}.
// `events` are the `const` event names of each operation's messages; `generic` counts the messages
// whose event is any string (application events, pass-through). Exit 1 when the document has errors.
// Run in a plain node process (the parser is heavy ESM, awkward inside jest's VM): test/unit/asyncapi.test.ts.
// Usage: node scripts/check-asyncapi.mjs [docs/asyncapi.yaml]
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const file = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'asyncapi.yaml');
const { document, diagnostics } = await new Parser().parse(readFileSync(file, 'utf8'));
const where = (d) => `${d.path.join('.')}: ${d.message}`;
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).map(where);
const warnings = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Warning).map(where);
const operations = {};
if (document) {
  for (const op of document.operations().all()) {
    const events = [];
    let generic = 0;
    for (const message of op.messages().all()) {
      const name = message.payload()?.json()?.properties?.event?.const;
      if (typeof name === 'string') events.push(name);
      else generic += 1;
    }
    operations[op.id()] = { action: op.action(), address: op.channels().all().map((c) => c.address()), events, generic };
  }
}
process.stdout.write(`${JSON.stringify({ errors, warnings, operations }, null, 1)}\n`);
process.exit(errors.length > 0 || !document ? 1 : 0);
