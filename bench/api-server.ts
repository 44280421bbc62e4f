import { randomBytes } from "node:crypto";
import { sql, type Kysely } from "kysely";
import pg from "pg";
import { loadConfig } from "../server/config";
import { startMailward } from "../server/runtime";
import type { Database } from "../server/db/schema";
import type { DatabaseTarget } from "../server/db/connection";
import { createSession } from "../server/auth/sessions";
import { benchOption } from "./args";

/**
 * The server side of `npm run bench:api`, run in its own process so the load
 * generator does not share its event loop: starts Mailward on an ephemeral
 * port (PGlite in memory, or a fresh PostgreSQL database), seeds one tenant with
 * `--users` agents and `--items` held messages by bulk SQL, prints one JSON line
 * (port, session cookies) and stops when stdin closes.
 */

const engine = benchOption("engine", "pglite");
const items = Number(benchOption("items", "100000"));
const userCount = Number(benchOption("users", "50"));
const BENCH_DB = "mw_bench_api";

function dbUrl(name: string): string {
  const u = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
  u.pathname = `/${name}`;
  return u.toString();
}

async function freshPostgres(): Promise<DatabaseTarget> {
  const admin = new pg.Client({ connectionString: dbUrl("postgres") });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${BENCH_DB}`);
  await admin.end();
  return { kind: "postgres", url: dbUrl(BENCH_DB) };
}

/** 100,000 held items for 50 people in a few statements: blobs, archived messages, held items (most still held). */
async function seed(db: Kysely<Database>, tenantId: string, userIds: string[]): Promise<void> {
  const users = sql.raw(`ARRAY[${userIds.map((id) => `'${id}'::uuid`).join(",")}]`);
  const chunk = 25_000;
  for (let start = 1; start <= items; start += chunk) {
    const end = Math.min(items, start + chunk - 1);
    await sql`INSERT INTO message_blobs (tenant_id, sha256, raw_size, stored_size, content)
      SELECT ${tenantId}::uuid, md5('b' || g) || md5('c' || g), 2000, 800, '\\x00'::bytea FROM generate_series(${start}::int, ${end}::int) g`.execute(
      db,
    );
    await sql`INSERT INTO messages (tenant_id, sha256, message_id, subject, from_address, from_name, to_addresses, envelope_from, envelope_to, date, received_at, size, search_vector)
      SELECT ${tenantId}::uuid, md5('b' || g) || md5('c' || g), '<bench-' || g || '@sender' || (g % 997) || '.example>',
        (ARRAY['Invoice','Your parcel','Account notice','Special offer','Meeting'])[1 + g % 5] || ' ' || g,
        'news' || (g % 211) || '@sender' || (g % 997) || '.example', 'Sender ' || (g % 211), ARRAY['agent@bench.example'],
        'bounce@sender' || (g % 997) || '.example', ARRAY['agent@bench.example'],
        now() - (g % 20160) * interval '1 minute', now() - (g % 20160) * interval '1 minute', 2000,
        to_tsvector('simple', 'bench message ' || g)
      FROM generate_series(${start}::int, ${end}::int) g`.execute(db);
    await sql`INSERT INTO held_items (tenant_id, message_id, user_id, recipient, reason, score, signals, status, expires_at, created_at)
      SELECT m.tenant_id, m.id, (${users})[1 + (abs(hashtext(m.sha256 || 'u')) % ${userIds.length}::int)],
        'agent@bench.example',
        (ARRAY['spam','spam','spam','phish','blocked_sender','impersonation','auth_fail','dangerous_attachment'])[1 + abs(hashtext(m.sha256)) % 8],
        5 + (abs(hashtext(m.sha256)) % 100) / 10.0,
        '[{"id":"content.spam","label":"The wording looks like bulk spam.","weight":6}]'::jsonb,
        (ARRAY['held','held','held','held','held','held','released','deleted'])[1 + abs(hashtext(m.id::text)) % 8],
        m.received_at + interval '14 days', m.received_at
      FROM messages m WHERE m.tenant_id = ${tenantId}::uuid AND m.message_id LIKE '<bench-%'
        AND NOT EXISTS (SELECT 1 FROM held_items h WHERE h.message_id = m.id)`.execute(db);
  }
  await sql`ANALYZE held_items`.execute(db);
  await sql`ANALYZE messages`.execute(db);
  await sql`ANALYZE users`.execute(db);
}

const started = Date.now();
const config = loadConfig({
  MAILWARD_HTTP_PORT: "0",
  MAILWARD_SMTP_PORT: "0",
  MAILWARD_HTTP_HOST: "127.0.0.1",
  MAILWARD_SMTP_HOST: "127.0.0.1",
  MAILWARD_LOG_LEVEL: "silent",
  MAILWARD_DATA_DIR: `.tmp/bench-api-${randomBytes(3).toString("hex")}`,
  MAILWARD_TENANT_DOMAINS: "bench.example",
  MAILWARD_ADMIN_EMAIL: "admin@bench.example",
  MAILWARD_ADMIN_PASSWORD: randomBytes(18).toString("base64url"),
});
const target: DatabaseTarget = engine === "postgres" ? await freshPostgres() : { kind: "pglite-memory" };
const mailward = await startMailward(config, { database: target, adminSocket: false });
const db = mailward.services.db;
const tenant = await db
  .selectFrom("tenant_domains")
  .select("tenant_id")
  .where("domain", "=", "bench.example")
  .executeTakeFirstOrThrow();
const userIds: string[] = [];
const sessions: string[] = [];
for (let i = 0; i < userCount; i++) {
  const user = await db
    .insertInto("users")
    .values({ tenant_id: tenant.tenant_id, email: `agent${i}@bench.example`, display_name: `Agent ${i}` })
    .returning("id")
    .executeTakeFirstOrThrow();
  await db
    .insertInto("role_assignments")
    .values({ tenant_id: tenant.tenant_id, user_id: user.id, role: "agent", scope: "own", scope_id: null })
    .execute();
  userIds.push(user.id);
  const session = await createSession(db, {
    tenantId: tenant.tenant_id,
    userId: user.id,
    ip: null,
    userAgent: "bench",
    ttlHours: 12,
    now: new Date(),
  });
  sessions.push(session.token);
}
const seedStarted = Date.now();
await seed(db, tenant.tenant_id, userIds);
const held = await db
  .selectFrom("held_items")
  .select(sql<number>`count(*)::int`.as("n"))
  .where("tenant_id", "=", tenant.tenant_id)
  .executeTakeFirstOrThrow();
process.stdout.write(
  `${JSON.stringify({ port: mailward.httpPort, engine: mailward.services.engine, sessions, heldItems: held.n, seedSeconds: (Date.now() - seedStarted) / 1000, startSeconds: (seedStarted - started) / 1000 })}\n`,
);
process.stdin.resume();
process.stdin.on("end", () => {
  void mailward.stop().then(async () => {
    if (engine === "postgres") {
      const admin = new pg.Client({ connectionString: dbUrl("postgres") });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${BENCH_DB} WITH (FORCE)`);
      await admin.end();
    }
    process.exit(0);
  });
});
