import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archivedByMessageId, rawMessage, smtpSend, waitForQueueIdle } from "../gateway/helpers";
import { startDeliverFixture, type DeliverFixture } from "./fixture";

// RFC 3464 lets one report name several recipients: one message refused for two of them is one DSN, not two.
let f: DeliverFixture;
const refused = ["ivy@example.com", "jon@example.com"];

beforeAll(async () => {
  f = await startDeliverFixture({ users: [...refused, "kim@example.com"] });
  for (const address of refused)
    f.sink.refuseRecipient(address, 550, `5.1.1 <${address}>: mailbox unavailable`);
});

afterAll(async () => {
  await f?.stop();
});

describe("delivery worker: several recipients of one message refused", () => {
  it("sends the sender one DSN that names every refused recipient", async () => {
    const to = [...refused, "kim@example.com"];
    const message = rawMessage({ from: "friend@nice.test", to: to.join(", ") });
    const reply = await smtpSend(f.server.smtpPort, { from: "friend@nice.test", to }, message.raw);
    expect(reply.ok).toBe(true);
    await f.sink.waitFor((all) => all.some((m) => m.mailFrom === "" && m.raw.includes(message.messageId)));
    await waitForQueueIdle(f.db());
    const archived = await archivedByMessageId(f.db(), message.messageId);
    expect(archived?.deliveries.map((d) => [d.recipient, d.state]).sort()).toEqual([
      ["ivy@example.com", "bounced"],
      ["jon@example.com", "bounced"],
      ["kim@example.com", "delivered"],
    ]);
    const dsns = f.sink.messages.filter((m) => m.mailFrom === "" && m.raw.includes(message.messageId));
    expect(dsns).toHaveLength(1);
    expect(dsns[0]!.rcptTo).toEqual(["friend@nice.test"]);
    const raw = dsns[0]!.raw.toString("latin1");
    for (const address of refused) {
      expect(raw).toContain(`Final-Recipient: rfc822; ${address}`);
      expect(raw).toContain(`  <${address}>: 550 5.1.1 <${address}>: mailbox unavailable`);
    }
    expect(raw).not.toContain("Final-Recipient: rfc822; kim@example.com");
    expect(raw.match(/^Action: failed$/gm)).toHaveLength(2);
  });
});

describe("delivery worker: a message refused for more recipients than one claim takes", () => {
  // One connection claims 4 deliveries at a time; the message has 9 recipients, all refused at once.
  const many = ["ann", "bob", "cat", "dan", "eve", "fay", "gus", "hal", "ida"].map((n) => `${n}@example.com`);
  let wide: DeliverFixture;

  beforeAll(async () => {
    wide = await startDeliverFixture({ users: many, delivery: { concurrency: 1 } });
    for (const address of many)
      wide.sink.refuseRecipient(address, 550, `5.1.1 <${address}>: mailbox unavailable`);
  });

  afterAll(async () => {
    await wide?.stop();
  });

  it("still sends one DSN naming them all", async () => {
    const message = rawMessage({ from: "friend@nice.test", to: many.join(", ") });
    expect(
      (await smtpSend(wide.server.smtpPort, { from: "friend@nice.test", to: many }, message.raw)).ok,
    ).toBe(true);
    await waitForQueueIdle(wide.db());
    const archived = await archivedByMessageId(wide.db(), message.messageId);
    expect(archived?.deliveries.filter((d) => d.state === "bounced")).toHaveLength(many.length);
    const dsns = wide.sink.messages.filter((m) => m.mailFrom === "" && m.raw.includes(message.messageId));
    expect(dsns).toHaveLength(1);
    expect(dsns[0]!.raw.toString("latin1").match(/^Action: failed$/gm)).toHaveLength(many.length);
  });
});
