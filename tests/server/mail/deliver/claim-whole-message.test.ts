import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { buildUser, tenantOfDomain } from "../../../factories";
import { archivedByMessageId, rawMessage, smtpSend, standardDns } from "../gateway/helpers";
import { claimDue } from "../../../../server/mail/deliver/claim";

// A claim takes a message's due deliveries together, so its refusals make one DSN (dsn-grouping.test.ts): no worker
// runs here (no next hop), the test claims with the queue's own statement.
let server: TestServer;
const db = () => server.mailward.services.db;
const people = ["ann", "bob", "cat", "dan", "eve"].map((name) => `${name}@example.com`);

beforeAll(async () => {
  server = await startTestServer({}, { dnsResolver: standardDns() });
  const tenantId = await tenantOfDomain(db());
  for (const email of people) await buildUser(db(), { tenantId, email });
});

afterAll(async () => {
  await server?.stop();
});

async function queued(to: string[]): Promise<{ messageId: string; deliveries: string[] }> {
  const message = rawMessage({ from: "friend@nice.test", to: to.join(", ") });
  expect((await smtpSend(server.smtpPort, { from: "friend@nice.test", to }, message.raw)).ok).toBe(true);
  const archived = await archivedByMessageId(db(), message.messageId);
  return { messageId: archived!.message.id, deliveries: archived!.deliveries.map((d) => d.id) };
}

describe("claiming due deliveries", () => {
  it("takes the rest of a message the limit cut through, under a longer lease, and leaves the next message whole", async () => {
    const first = await queued(people.slice(0, 2));
    const second = await queued(people);
    const third = await queued(people.slice(0, 3));
    // Claim 4: the first message's 2 and the second's first 2 by the limit, then the second's other 3.
    const claimed = await claimDue(db(), "w-one", 4, 60);
    const byMessage = (messageId: string) => claimed.filter((d) => d.messageId === messageId).length;
    expect([byMessage(first.messageId), byMessage(second.messageId), byMessage(third.messageId)]).toEqual([
      2, 5, 0,
    ]);
    const leases = await db()
      .selectFrom("deliveries")
      .select(["message_id", sql<number>`extract(epoch from locked_until - now())`.as("left")])
      .where("locked_by", "=", "w-one")
      .execute();
    // The first four rows hold one lease (60 s); the three claimed after them wait behind all seven: two leases.
    const left = leases.map((l) => Number(l.left)).sort((a, b) => a - b);
    expect(left.filter((s) => s > 50 && s <= 60)).toHaveLength(4);
    expect(left.filter((s) => s > 110 && s <= 120)).toHaveLength(3);
    // The next claim starts with the third message, whole.
    const next = await claimDue(db(), "w-two", 4, 60);
    expect(next.map((d) => d.messageId)).toEqual([third.messageId, third.messageId, third.messageId]);
  });

  it("finds the message the limit cut through when two are due within the same millisecond", async () => {
    const early = await queued(people.slice(0, 3));
    const late = await queued(people.slice(0, 3));
    // Due 0.2 ms apart, within one millisecond (a JavaScript Date's precision), the later message's id the lower.
    const [first, second] = [early, late].sort((a, b) => (a.messageId < b.messageId ? 1 : -1));
    await sql`UPDATE deliveries SET next_attempt_at = '2026-01-01 00:00:00.000100+00' WHERE message_id = ${first!.messageId}`.execute(
      db(),
    );
    await sql`UPDATE deliveries SET next_attempt_at = '2026-01-01 00:00:00.000300+00' WHERE message_id = ${second!.messageId}`.execute(
      db(),
    );
    // A limit of 4 takes the first message's 3 and cuts through the second's: all three of it must come.
    const claimed = await claimDue(db(), "w-three", 4, 60);
    expect(claimed.filter((d) => d.messageId === second!.messageId)).toHaveLength(3);
    expect(claimed).toHaveLength(6);
  });
});
