import type { Kysely } from "kysely";
import { loadConfig, type Config } from "../../server/config";
import { quietSignals, type Services } from "../../server/context";
import type { Database } from "../../server/db/schema";
import { createLogger } from "../../server/logger";
import { createMetrics } from "../../server/metrics";
import { administrativeResolver } from "../../server/mail/scan/dns";

/** Settings for tests: ephemeral ports, quiet logs, overridable per test. */
/** The server key of test services, test servers (`testConfig`) and the processes tests start. */
export const TEST_SECRET_KEY = Buffer.alloc(32, 7);

/** The configuration of a test server: ephemeral ports, silent, offline DNS, the test key; `overrides` win. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    MAILWARD_HTTP_PORT: "0",
    MAILWARD_SMTP_PORT: "0",
    MAILWARD_HTTP_HOST: "127.0.0.1",
    MAILWARD_SMTP_HOST: "127.0.0.1",
    MAILWARD_LOG_LEVEL: "silent",
    MAILWARD_DATA_DIR: ".tmp/unused-data",
    // One server key for every test server and child process (TEST_SECRET_KEY), so instances on one database agree.
    MAILWARD_SECRET_KEY: TEST_SECRET_KEY.toString("hex"),
    MAILWARD_TENANT_DOMAINS: "example.com",
    // Admin TOTP enforcement (server/auth/mfa-policy.ts) is tested on purpose in tests/server/auth; elsewhere off.
    MAILWARD_ADMIN_TOTP: "optional",
    // Tests never ask public DNS (it is not there, and lookups would wait for timeouts); a test that
    // needs SPF/DKIM/DMARC answers passes a fake resolver (StartOptions.dnsResolver).
    MAILWARD_DNS: "offline",
    ...overrides,
  });
}

/**
 * A test server's settings on a data folder of its own (the embedded database there, unless a target is given), with
 * the first admin's password set, so none is generated and printed; `overrides` win.
 */
export function dataFolderConfig(dataDir: string, overrides: Record<string, string> = {}): Config {
  return testConfig({
    MAILWARD_DATA_DIR: dataDir,
    MAILWARD_ADMIN_EMAIL: "admin@example.com",
    MAILWARD_ADMIN_PASSWORD: "correct horse battery",
    ...overrides,
  });
}

/** Services over an open test database, for command-level tests without HTTP. */
export function testServices(
  db: Kysely<Database>,
  engine: "pglite" | "postgres",
  overrides: Partial<Services> = {},
): Services {
  return {
    db,
    engine,
    config: testConfig(),
    logger: createLogger("silent"),
    metrics: createMetrics(),
    signals: quietSignals(),
    dns: administrativeResolver("offline"),
    now: () => new Date(),
    secretKey: TEST_SECRET_KEY,
    readiness: new Map(),
    ...overrides,
  };
}
