import { ConfigError, loadConfig } from "./config";
import { DataDirBusyError } from "./db/data-dir-lock";

/**
 * Process entry: validate settings (exit 2 on a bad one), start, stop cleanly on SIGTERM/SIGINT. The server's modules
 * load after the settings are checked, so a mistyped setting is refused at once rather than after seconds of loading.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`mailward: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let mailward;
  try {
    const { startMailward } = await import("./runtime");
    mailward = await startMailward(config);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`mailward: could not start: ${message}\n`);
    process.exit(err instanceof DataDirBusyError || err instanceof ConfigError ? 2 : 1);
  }
  const running = mailward;
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) return;
    signalled = true;
    running.services.logger.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      running.services.logger.error("shutdown took longer than 30 s; exiting");
      process.exit(1);
    }, 30_000);
    force.unref();
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        running.services.logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

void main();
