import type { Services } from "../../server/context";
import { runCliCommand } from "../../server/cli/commands";

/** Runs `npm run mailward -- <argv>` against a test server's services: its exit code and the lines it printed. */
export async function runCli(
  services: Services,
  argv: string[],
  cwd = ".",
): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runCliCommand(services, argv, { print: (line) => lines.push(line) }, cwd);
  return { code, lines };
}
