import { createLogger } from "../logger";
import { createMetrics } from "../metrics";
import { openDatabase, pgliteFolderOf } from "../db/connection";
import { migrateToLatest } from "../db/migrate";
import { databaseTargetFor } from "../runtime";
import { quietSignals, type Services } from "../context";
import { runCliCommand } from "./commands";
import { startSignalRelay } from "../db/signal-relay";
import { administrativeResolver } from "../mail/scan/dns";
import { checkServerKey, loadServerKey } from "../auth/server-key";
import { rotateServerKey } from "../auth/key-rotation";
import { sealStoredTotpSecrets } from "../auth/totp-at-rest";
import { acquireDataDirLock } from "../db/data-dir-lock";
import { makeDataDirPrivate } from "../db/private-data-dir";
import type { Config } from "../config";

/** Runs a CLI command on the database itself (no server answered on the admin socket), loaded only then. */
export async function runCliDirectly(config: Config, argv: string[]): Promise<number> {
  const target = databaseTargetFor(config);
  const logger = createLogger("warn");
  makeDataDirPrivate(config.dataDir, logger);
  const lock = target.kind === "pglite" ? acquireDataDirLock(target.dataDir, "cli") : null;
  const handle = await openDatabase(target);
  try {
    await migrateToLatest(handle.db);
    // The running server warns about a key file on a shared database; a command only uses the key it is given.
    const serverKey = loadServerKey(config, logger, false);
    await rotateServerKey(handle.db, serverKey, logger);
    await checkServerKey(handle.db, serverKey);
    await sealStoredTotpSecrets(handle.db, serverKey.key, logger);
    const services: Services = {
      db: handle.db,
      engine: handle.engine,
      config,
      logger,
      metrics: createMetrics(),
      signals: quietSignals(),
      dns: administrativeResolver(config.MAILWARD_DNS),
      now: () => new Date(),
      secretKey: serverKey.key,
      readiness: new Map(),
      ...(target.kind === "pglite" ? { pgliteFolder: pgliteFolderOf(target.dataDir) } : {}),
    };
    // On a PostgreSQL server, running instances hear what the command changed (an alias, a domain) at once.
    const relay =
      target.kind === "postgres" ? startSignalRelay(services, target.url, { listen: false }) : null;
    try {
      return await runCliCommand(
        services,
        argv,
        { print: (line) => process.stdout.write(`${line}\n`) },
        process.cwd(),
      );
    } finally {
      await relay?.stop();
    }
  } finally {
    await handle.close();
    lock?.release();
  }
}
