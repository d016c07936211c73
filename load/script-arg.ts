/**
 * `--name value` of a measurement script's argv (load/redis-*.ts), or `fallback`; without either, prints `usage`
 * and exits 2.
 */
export function scriptArg(usage: string, name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) {
    console.error(usage);
    process.exit(2);
  }
  return v;
}
