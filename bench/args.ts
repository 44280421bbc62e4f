/** The value after `--name` on the command line, or `fallback` when it is absent (the benches' one flag syntax). */
export function benchOption(name: string, fallback: string): string {
  const args = process.argv.slice(2);
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? (args[at + 1] ?? fallback) : fallback;
}
