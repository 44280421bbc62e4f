import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { buildTenant, buildUser } from "../../factories";
import { readRawMessage } from "../../../server/archive/store";
import { parseMessage } from "../../../server/archive/parse";
import { fileFor, mimeMessage } from "./helpers";

// Migration 1001: a message's HTML body lives in its raw MIME only (gzip, once per content); the
// archived row keeps no second copy of it, and what reads the HTML gets it from the raw MIME.
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.destroy();
});

describe("the archived row and the HTML body", () => {
  it("stores a large HTML part once, in the raw MIME, not again in the message's row", async () => {
    const db = database.handle.db;
    const tenant = await buildTenant(db);
    const user = await buildUser(db, { tenantId: tenant.id });
    // Incompressible, so that a copy in the row would show in its size whatever TOAST does.
    const noise = randomBytes(30_000).toString("base64");
    const html = `<html><body><p data-x="${noise}">Quarterly figures</p></body></html>`;
    const raw = mimeMessage({ to: user.email, subject: "Figures", text: "Quarterly figures", html });
    const filed = await fileFor(db, tenant.id, raw, [user]);

    const row = await sql<{ bytes: number }>`SELECT pg_column_size(m.*) AS bytes FROM messages m
      WHERE id = ${filed.id}`.execute(db);
    expect(Number(row.rows[0]?.bytes)).toBeLessThan(noise.length / 2);

    const sha = await db
      .selectFrom("messages")
      .select("sha256")
      .where("id", "=", filed.id)
      .executeTakeFirstOrThrow();
    const stored = await readRawMessage(db, tenant.id, sha.sha256);
    const parsed = stored ? await parseMessage(stored) : null;
    expect(parsed?.html).toContain(noise);
  });
});
