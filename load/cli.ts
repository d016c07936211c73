#!/usr/bin/env node
/**
 * `npm run load -- --scenario NAME …`: the load driver. Prints a table (and --json), exits 0 when the scenario's
 * expectation holds, 1 when it does not, 2 on bad usage or when the run could not start.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs, usage, UsageError, type LoadArgs } from './args.js';
import { renderMarkdown, renderTable } from './report.js';
import { renderHtml } from './report-html.js';
import { Resources, runScenario } from './run.js';

async function main(argv: string[]): Promise<number> {
  let args: LoadArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`load: ${err.message}\n\n${usage()}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const res = new Resources();
  let interrupted = false;
  // Ctrl-C: stop nginx, the gateway and the workers, remove nginx's temp dir, then exit 130.
  process.once('SIGINT', () => {
    interrupted = true;
    process.stderr.write('\nload: interrupted, stopping everything…\n');
    void res.stopAll().finally(() => process.exit(130));
  });
  process.once('SIGTERM', () => void res.stopAll().finally(() => process.exit(143)));
  try {
    const report = await runScenario(args, res, argv);
    await res.stopAll();
    if (interrupted) return 130;
    process.stdout.write(`\n${renderTable(report)}\n`);
    if (args.json) writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    if (args.html) writeFileSync(args.html, renderHtml(report));
    if (args.md) writeFileSync(args.md, renderMarkdown(report));
    return report.pass ? 0 : 1;
  } catch (err) {
    await res.stopAll();
    process.stderr.write(`load: ${(err as Error).stack ?? String(err)}\n`);
    return 2;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
