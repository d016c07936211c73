export * from './codes.js';
export * from './errors.js';
export * from './events.js';
export * from './codec.js';
export * from './json.js';
export * from './payloads.js';
