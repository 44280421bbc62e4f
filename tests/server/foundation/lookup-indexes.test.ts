import { randomUUID } from "node:crypto";
import { CompiledQuery, sql, type Compilable } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { inTeamsOfOwnGroup } from "../../../server/db/team-members";

// Migrations 3300, 3310 and 3320: a team's people (a lead's held list and archive reach), expired sessions and password
// links (the self-service round's pruning) and an account by its address alone (password sign-in, SMTP AUTH) are read
// through an index, not a scan of the whole table.
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.destroy();
});

/** The plan PostgreSQL makes for `query` when it may not scan a table sequentially (as it would while it is small). */
async function planOf(query: Compilable): Promise<string> {
  const compiled = query.compile();
  return database.handle.db.transaction().execute(async (trx) => {
    await sql`SET LOCAL enable_seqscan = off`.execute(trx);
    const plan = await trx.executeQuery<{ "QUERY PLAN": string }>(
      CompiledQuery.raw(`EXPLAIN ${compiled.sql}`, [...compiled.parameters]),
    );
    return plan.rows.map((r) => r["QUERY PLAN"]).join("\n");
  });
}

describe("lookup indexes", () => {
  it("a team's members of its own group are found through users_team (tenant_id, team_id)", async () => {
    const db = database.handle.db;
    const query = db
      .selectFrom("users")
      .select("users.id")
      .where("users.tenant_id", "=", randomUUID())
      .where((eb) => inTeamsOfOwnGroup(eb, [randomUUID(), randomUUID()]));
    expect(await planOf(query)).toContain("users_team");
  });

  it("expired sessions and password links are found through their expiry indexes", async () => {
    const db = database.handle.db;
    const now = new Date();
    expect(
      await planOf(db.selectFrom("sessions").select("id").where("expires_at", "<=", now).limit(1000)),
    ).toContain("sessions_expires_at");
    expect(
      await planOf(db.selectFrom("password_resets").select("id").where("expires_at", "<=", now).limit(1000)),
    ).toContain("password_resets_expires_at");
  });

  it("an account is found by its address alone (no organisation yet) through users_address", async () => {
    const db = database.handle.db;
    const query = db
      .selectFrom("users")
      .select("id")
      .where((eb) => eb(eb.fn("lower", ["email"]), "=", "someone@example.com"));
    expect(await planOf(query)).toMatch(/Index (Only )?Scan using users_address/);
  });
});
