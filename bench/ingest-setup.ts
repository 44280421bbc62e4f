import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import type { Kysely } from "kysely";
import { loadConfig, type Config } from "../server/config";
import type { Database } from "../server/db/schema";
import { createOfflineResolver } from "../server/mail/scan/index";
import { startMailward, type Mailward } from "../server/runtime";

/** The tenant domain every ingest bench files mail for. */
export const BENCH_DOMAIN = "bench.example";

/**
 * The configuration the ingest benches start Mailward with: ephemeral ports on loopback, quiet
 * logs, one tenant domain, a first admin; `overrides` add or replace settings (DATABASE_URL, limits).
 */
export function benchConfig(dataDir: string, overrides: Record<string, string> = {}): Config {
  return loadConfig({
    MAILWARD_HTTP_PORT: "0",
    MAILWARD_SMTP_PORT: "0",
    MAILWARD_HTTP_HOST: "127.0.0.1",
    MAILWARD_SMTP_HOST: "127.0.0.1",
    MAILWARD_LOG_LEVEL: "warn",
    MAILWARD_DATA_DIR: dataDir,
    MAILWARD_TENANT_DOMAINS: BENCH_DOMAIN,
    MAILWARD_ADMIN_EMAIL: `admin@${BENCH_DOMAIN}`,
    MAILWARD_ADMIN_PASSWORD: "correct horse battery",
    ...overrides,
  });
}

/** Runs `work` on a fresh database of the PostgreSQL server at `adminUrl`, dropped afterwards whatever happens. */
export async function withPostgresDatabase<T>(
  adminUrl: string,
  prefix: string,
  work: (url: string) => Promise<T>,
): Promise<T> {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  try {
    return await work(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

/**
 * Runs `work` against Mailward started in-process (offline DNS, no admin socket) on a fresh database of the
 * PostgreSQL server at `adminUrl` and a fresh data folder; stops it and drops both afterwards, whatever happens.
 */
export async function withPostgresMailward<T>(
  adminUrl: string,
  prefix: string,
  work: (mailward: Mailward, url: string) => Promise<T>,
): Promise<T> {
  return withPostgresDatabase(adminUrl, prefix, async (url) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix.replaceAll("_", "-")}-`));
    try {
      const mailward = await startMailward(benchConfig(dataDir, { DATABASE_URL: url }), {
        dnsResolver: createOfflineResolver(),
        adminSocket: false,
      });
      try {
        return await work(mailward, url);
      } finally {
        await mailward.stop();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

/** Adds `count` users (agent0@… onwards) to the bench tenant; returns their ids and addresses, and the tenant's id. */
export async function addBenchUsers(
  db: Kysely<Database>,
  count: number,
): Promise<{ tenantId: string; users: Array<{ id: string; email: string }> }> {
  const { tenant_id: tenantId } = await db
    .selectFrom("tenant_domains")
    .select("tenant_id")
    .where("domain", "=", BENCH_DOMAIN)
    .executeTakeFirstOrThrow();
  const users = await db
    .insertInto("users")
    .values(
      Array.from({ length: count }, (_, i) => ({
        tenant_id: tenantId,
        email: `agent${i}@${BENCH_DOMAIN}`,
        display_name: `agent${i}`,
      })),
    )
    .returning(["id", "email"])
    .execute();
  return { tenantId, users };
}
