import { CompiledQuery, sql, type Compilable } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { heldListQuery, type HeldSort } from "../../../shared/schemas/held";
import { heldPageStatement } from "../../../server/commands/held/list-held";
import type { Actor } from "../../../server/context";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { buildTenant, buildUser } from "../../factories";

// Migration 3420: the organisation's held list (a security admin's scope=review, the portal's "Everyone's") sorted by
// expiry or score reads its page through an index that leads with the organisation and the sort's column, as a
// person's own list does (0401), instead of sorting every held item of the organisation.
let database: TestDatabase;
let admin: Actor;

beforeAll(async () => {
  database = await createTestDatabase();
  const tenant = await buildTenant(database.handle.db, { domains: ["review-sorts.example"] });
  admin = (
    await buildUser(database.handle.db, {
      tenantId: tenant.id,
      email: "sec@review-sorts.example",
      roles: ["security_admin"],
    })
  ).actor;
});
afterAll(async () => {
  await database.destroy();
});

/** The plan of `query` with sorting priced out of reach: an index that gives the order is taken if there is one. */
async function planOf(statement: Compilable | Promise<Compilable>): Promise<string> {
  const compiled = (await statement).compile();
  return database.handle.db.transaction().execute(async (trx) => {
    await sql`SET LOCAL enable_seqscan = off`.execute(trx);
    await sql`SET LOCAL enable_sort = off`.execute(trx);
    const plan = await trx.executeQuery<{ "QUERY PLAN": string }>(
      CompiledQuery.raw(`EXPLAIN ${compiled.sql}`, [...compiled.parameters]),
    );
    return plan.rows.map((r) => r["QUERY PLAN"]).join("\n");
  });
}

/** The page statement of the organisation's held messages, still held, in `sort` order. */
function reviewPage(sort: HeldSort) {
  const query = heldListQuery.parse({ scope: "review", status: "held", sort });
  return heldPageStatement(database.handle.db, admin, query, new Date());
}

describe("the organisation's held list, sorted", () => {
  it("by expiry: read through held_items_tenant_expiry (tenant_id, expires_at, id)", async () => {
    expect(await planOf(reviewPage("expiring"))).toMatch(/using held_items_tenant_expiry on/);
  });

  it("by score: read through held_items_tenant_score (tenant_id, score DESC, id DESC)", async () => {
    expect(await planOf(reviewPage("score"))).toMatch(/using held_items_tenant_score on/);
  });

  it("newest first: still through held_items_tenant_time, as before", async () => {
    expect(await planOf(reviewPage("newest"))).toMatch(/using held_items_tenant_time on/);
  });

  it("one recipient's: the person is looked up once, not checked by a subquery against every held item", async () => {
    const planFor = (recipient: string) =>
      planOf(
        heldPageStatement(
          database.handle.db,
          admin,
          heldListQuery.parse({ scope: "review", recipient }),
          new Date(),
        ),
      );
    const person = await planFor("SEC@review-sorts.example");
    expect(person).toContain(`user_id = '${admin.userId}'::uuid`);
    expect(person).not.toMatch(/SubPlan/);
    // Nobody's address: only group mail to it can match.
    const nobody = await planFor("help@review-sorts.example");
    expect(nobody).toMatch(/held_items_group_time on held_items/);
    expect(nobody).toContain("recipient = 'help@review-sorts.example'");
    expect(nobody).not.toMatch(/SubPlan/);
  });
});
