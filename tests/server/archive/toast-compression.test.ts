import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { createTestDatabase, testEngine, type TestDatabase } from "../../support/db";
import { buildTenant, buildUser } from "../../factories";
import { CURRENT_LZ4_COLUMNS as LZ4_COLUMNS } from "../../../server/db/migrations/1001_drop_message_body_html";
import { fileFor, mimeMessage, uniqueWord } from "./helpers";

// Migration 0903: the archive's large derived columns use lz4 where PostgreSQL has it (a server),
// and keep pglz where it has not (PGlite). Either way the values read back exactly.
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.destroy();
});

describe("TOAST compression of archived messages", () => {
  it("stores large bodies compressed with lz4 on a PostgreSQL server, pglz on PGlite, and reads them back unchanged", async () => {
    const db = database.handle.db;
    const declared = await sql<{
      attname: string;
      attcompression: string;
    }>`SELECT attname, attcompression::text
      FROM pg_attribute WHERE attrelid = 'messages'::regclass AND attname = ANY(${LZ4_COLUMNS}::text[])`.execute(
      db,
    );
    const expected = testEngine() === "postgres" ? "l" : "";
    expect(declared.rows).toHaveLength(LZ4_COLUMNS.length);
    for (const row of declared.rows) expect(row.attcompression, row.attname).toBe(expected);

    const tenant = await buildTenant(db);
    const user = await buildUser(db, { tenantId: tenant.id });
    const word = uniqueWord("lz");
    // Repetitive enough to compress, long enough (well over 2 kB) to be compressed at all.
    const text = Array.from(
      { length: 4000 },
      (_, i) => `${word} line ${i % 50} of the quarterly report`,
    ).join("\n");
    const filed = await fileFor(db, tenant.id, mimeMessage({ to: user.email, subject: "Report", text }), [
      user,
    ]);
    const stored = await sql<{ method: string | null; body: string }>`SELECT
      pg_column_compression(body_text) AS method, body_text AS body FROM messages WHERE id = ${filed.id}`.execute(
      db,
    );
    expect(stored.rows[0]?.method).toBe(testEngine() === "postgres" ? "lz4" : "pglz");
    expect(stored.rows[0]?.body.trim()).toBe(text);
  });
});
