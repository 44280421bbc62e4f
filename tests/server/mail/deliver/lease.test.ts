import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { buildUser, tenantOfDomain } from "../../../factories";
import { archivedByMessageId, standardDns } from "../gateway/helpers";
import { claimDue } from "../../../../server/mail/deliver/claim";
import { markHandoff } from "../../../../server/mail/deliver/queue";
import { sendAccepted } from "./fixture";

// Several workers (processes) share the queue. A worker claims a batch and relays it a message at a time, so with a
// slow next hop the lease of a message further down its batch can run out before the worker gets to it. No worker
// runs here (no next hop): the test plays two of them with the queue's own statements.
let server: TestServer;
const db = () => server.mailward.services.db;

beforeAll(async () => {
  server = await startTestServer({}, { dnsResolver: standardDns() });
  await buildUser(db(), { tenantId: await tenantOfDomain(db()), email: "gina@example.com" });
});

afterAll(async () => {
  await server?.stop();
});

async function queuedDelivery(): Promise<string> {
  const message = await sendAccepted(server.smtpPort, "friend@nice.test", "gina@example.com");
  const archived = await archivedByMessageId(db(), message.messageId);
  return archived!.deliveries[0]!.id;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("the delivery lease at the handoff", () => {
  it("keeps a delivery with the worker that reached its final dot, even after its lease ran out while it waited", async () => {
    const id = await queuedDelivery();
    const first = await claimDue(db(), "w-first", 100, 0.2);
    expect(first.map((d) => d.id)).toContain(id);
    await pause(400); // busy with the rest of its batch: the lease runs out before it gets to this one
    // Nobody else claimed it meanwhile, so it is still this worker's: its final dot goes out.
    expect(await markHandoff(db(), id, "w-first", 30)).toBe(true);
    // Another worker must not claim it now and send it a second time.
    const second = await claimDue(db(), "w-second", 100, 30);
    expect(second.map((d) => d.id)).not.toContain(id);
    const row = await db()
      .selectFrom("deliveries")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: "sending", locked_by: "w-first", possible_duplicate: false });
  });

  it("refuses the handoff to a worker whose delivery another worker claimed after its lease ran out", async () => {
    const id = await queuedDelivery();
    expect((await claimDue(db(), "w-late", 100, 0.2)).map((d) => d.id)).toContain(id);
    await pause(400);
    expect((await claimDue(db(), "w-other", 100, 30)).map((d) => d.id)).toContain(id);
    expect(await markHandoff(db(), id, "w-late", 30)).toBe(false);
    expect(await markHandoff(db(), id, "w-other", 30)).toBe(true);
  });
});
