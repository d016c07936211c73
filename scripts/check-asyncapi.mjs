#!/usr/bin/env node
// Validate docs/asyncapi.yaml with @asyncapi/parser and print what it describes, as JSON:
// {errors: [...], warnings: [...], operations: {<id>: {action, address, events: [...], generic: n}}, frames?}.
// `events` are the `const` event names of each operation's messages; `generic` counts the messages
// whose event is any string (application events, pass-through). Exit 1 when the document has errors.
// Run in a plain node process (the parser is heavy ESM, awkward inside jest's VM): test/unit/asyncapi.test.ts.
// With --frames FILE ({<operation id>: [frame, ...]}, frames recorded on the wire), each frame is also validated
// against the JSON Schema of the operation's message for its event (the generic message when none names it):
// frames: {checked, errors: [...], seen: {<operation id>: [events]}}.
// Usage: node scripts/check-asyncapi.mjs [docs/asyncapi.yaml] [--frames FILE]
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';
import Ajv from 'ajv';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const framesAt = args.indexOf('--frames');
const framesFile = framesAt >= 0 ? args.splice(framesAt, 2)[1] : undefined;
const file = args[0] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'asyncapi.yaml');
const { document, diagnostics } = await new Parser().parse(readFileSync(file, 'utf8'));
const where = (d) => `${d.path.join('.')}: ${d.message}`;
const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error).map(where);
const warnings = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Warning).map(where);
const operations = {};
/** Per operation: event name (or '' for the generic message) → the message's payload schema. */
const schemas = {};
if (document) {
  for (const op of document.operations().all()) {
    const events = [];
    let generic = 0;
    schemas[op.id()] = new Map();
    for (const message of op.messages().all()) {
      const schema = message.payload()?.json();
      const name = schema?.properties?.event?.const;
      if (typeof name === 'string') events.push(name);
      else generic += 1;
      schemas[op.id()].set(typeof name === 'string' ? name : '', schema);
    }
    operations[op.id()] = { action: op.action(), address: op.channels().all().map((c) => c.address()), events, generic };
  }
}
const out = { errors, warnings, operations };
if (framesFile) out.frames = checkFrames(JSON.parse(readFileSync(framesFile, 'utf8')));
process.stdout.write(`${JSON.stringify(out, null, 1)}\n`);
process.exit(errors.length > 0 || !document || out.frames?.errors.length ? 1 : 0);

/** Validate recorded frames against the schemas (the parser's dereferenced JSON Schemas; its x- keys ignored). */
function checkFrames(recorded) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const result = { checked: 0, errors: [], seen: {} };
  for (const [opId, frames] of Object.entries(recorded)) {
    const byEvent = schemas[opId];
    if (!byEvent) {
      result.errors.push(`${opId}: no such operation`);
      continue;
    }
    result.seen[opId] = [...new Set(frames.map((f) => f.event))];
    for (const frame of frames) {
      result.checked += 1;
      const schema = byEvent.get(frame.event) ?? byEvent.get('');
      const validate = ajv.compile(schema);
      if (!validate(frame)) result.errors.push(`${opId} ${JSON.stringify(frame).slice(0, 200)}: ${ajv.errorsText(validate.errors)}`);
    }
  }
  return result;
}
