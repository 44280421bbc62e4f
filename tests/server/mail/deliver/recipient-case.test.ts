import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archivedByMessageId, waitForQueueIdle } from "../gateway/helpers";
import { startDeliverFixture, sendAccepted, type DeliverFixture } from "./fixture";

// RFC 5321 §2.4: the local part of an address may be case-sensitive; only the receiving host may decide it is not.
// The gateway matches recipients to the organisation's users without case, but relays to the address as it came.
let f: DeliverFixture;

beforeAll(async () => {
  f = await startDeliverFixture({ users: ["olga.petrova@example.com"] });
});

afterAll(async () => {
  await f?.stop();
});

describe("delivery worker: the recipient's case", () => {
  it("relays to the address as the sender wrote it, and still files it for the user it matched", async () => {
    const message = await sendAccepted(f.server.smtpPort, "friend@nice.test", "Olga.Petrova@example.com");
    await f.sink.waitFor(() => f.sink.withMessageId(message.messageId).length === 1);
    await waitForQueueIdle(f.db());
    expect(f.sink.withMessageId(message.messageId)[0]?.rcptToAsSent).toEqual(["Olga.Petrova@example.com"]);
    const archived = await archivedByMessageId(f.db(), message.messageId);
    // Matching (the admin trace, the held list, the user's links) keeps using the canonical form.
    expect(archived?.deliveries).toMatchObject([
      { recipient: "olga.petrova@example.com", state: "delivered" },
    ]);
    expect(archived?.links).toHaveLength(1);
  });
});
