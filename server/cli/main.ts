import { ConfigError, loadConfig } from "../config";
import { DataDirBusyError } from "../db/data-dir-lock";
import { sendToAdminSocket } from "./admin-socket-client";
import { cliRequest, helpAnswer } from "./help";

/**
 * `npm run mailward -- <command>`: through the running server's admin socket
 * when one answers (the embedded database allows one process), else directly.
 * The server's modules are loaded only for the direct way: a command the running server carries out, a setting
 * refused, help or an unknown command answer without them (help and unknown commands without the database too).
 */
async function main(argv: string[]): Promise<number> {
  if (cliRequest(argv) !== "command") {
    const answer = helpAnswer(argv);
    process.stdout.write(`${answer.output}\n`);
    return answer.exitCode;
  }
  const config = loadConfig();
  if (argv[0] === "restore") {
    // Never through the server: it replaces the database a running server holds.
    const { runRestore } = await import("./restore-command");
    return runRestore(config, argv.slice(1), process.cwd(), {
      print: (line) => process.stdout.write(`${line}\n`),
    });
  }
  if (!config.DATABASE_URL) {
    const remote = await sendToAdminSocket(config.dataDir, argv, process.cwd());
    if (remote) {
      if (remote.output) process.stdout.write(`${remote.output}\n`);
      return remote.exitCode;
    }
  }
  const { runCliDirectly } = await import("./direct");
  return runCliDirectly(config, argv);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof DataDirBusyError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`mailward: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
