import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SenderAllowances } from "../../../../server/mail/gateway/sender-allowances";
import { buildTenant, buildUser } from "../../../factories";
import { createTestDatabase, type TestDatabase } from "../../../support/db";

// The recipients-per-hour allowance of signed-in senders, kept in the database rather than in one gateway's memory.
let database: TestDatabase;
let tenantId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  tenantId = (await buildTenant(database.handle.db)).id;
});
afterAll(async () => {
  await database?.destroy();
});

const sender = async () =>
  (await buildUser(database.handle.db, { tenantId, email: `s-${Math.random()}@example.com` })).id;

describe("SenderAllowances", () => {
  it("allows an hour's recipients per sender, refills continuously, and reports only the first refusal of a run", async () => {
    const allowances = new SenderAllowances(database.handle.db, 60);
    const [a, b] = [await sender(), await sender()];
    const t0 = new Date("2026-11-30T10:00:00Z");
    const at = (ms: number) => new Date(t0.getTime() + ms);
    for (let i = 0; i < 60; i++) expect((await allowances.takeRecipient(a, t0)).allowed).toBe(true);
    expect(await allowances.takeRecipient(a, t0)).toEqual({ allowed: false, firstRefusal: true });
    expect(await allowances.takeRecipient(a, at(30_000))).toEqual({ allowed: false, firstRefusal: false });
    expect((await allowances.takeRecipient(b, t0)).allowed).toBe(true); // per sender
    expect(await allowances.takeRecipient(a, at(60_000))).toEqual({ allowed: true, firstRefusal: false }); // one a minute
    expect(await allowances.takeRecipient(a, at(60_000))).toEqual({ allowed: false, firstRefusal: true });
  });

  it("is one allowance for every gateway on the database, and survives a restart", async () => {
    const id = await sender();
    const now = new Date();
    const first = new SenderAllowances(database.handle.db, 3);
    expect((await first.takeRecipient(id, now)).allowed).toBe(true);
    expect((await first.takeRecipient(id, now)).allowed).toBe(true);
    // Another instance (or this one restarted) sees what the first took.
    const second = new SenderAllowances(database.handle.db, 3);
    expect(await second.takeRecipient(id, now)).toEqual({ allowed: true, firstRefusal: false });
    expect(await second.takeRecipient(id, now)).toEqual({ allowed: false, firstRefusal: true });
    expect(await first.takeRecipient(id, now)).toEqual({ allowed: false, firstRefusal: false });
  });

  it("counts concurrent sessions of one sender exactly (its row is locked while it is taken)", async () => {
    const id = await sender();
    const allowances = new SenderAllowances(database.handle.db, 10);
    await allowances.takeRecipient(id); // the row exists from here on
    const now = new Date();
    const answers = await Promise.all(Array.from({ length: 15 }, () => allowances.takeRecipient(id, now)));
    expect(answers.filter((x) => x.allowed)).toHaveLength(9);
    expect(answers.filter((x) => x.firstRefusal)).toHaveLength(1);
  });

  it("takes refunded recipients back, never beyond an hour's allowance", async () => {
    const id = await sender();
    const allowances = new SenderAllowances(database.handle.db, 3);
    const now = new Date();
    for (let i = 0; i < 3; i++) await allowances.takeRecipient(id, now);
    expect((await allowances.takeRecipient(id, now)).allowed).toBe(false);
    await allowances.refundRecipients(id, 2);
    expect((await allowances.takeRecipient(id, now)).allowed).toBe(true);
    await allowances.refundRecipients(id, 10);
    for (let i = 0; i < 3; i++) expect((await allowances.takeRecipient(id, now)).allowed).toBe(true);
    expect((await allowances.takeRecipient(id, now)).allowed).toBe(false);
  });

  it("does not limit when the allowance is 0, and writes nothing then", async () => {
    const id = await sender();
    const allowances = new SenderAllowances(database.handle.db, 0);
    for (let i = 0; i < 50; i++) expect((await allowances.takeRecipient(id)).allowed).toBe(true);
    const rows = await database.handle.db
      .selectFrom("sender_allowances")
      .select("user_id")
      .where("user_id", "=", id)
      .execute();
    expect(rows).toEqual([]);
  });
});
