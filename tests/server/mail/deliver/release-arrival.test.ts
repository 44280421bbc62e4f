import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archivedByMessageId, waitForQueueIdle } from "../gateway/helpers";
import { gatewayReleaseTarget } from "../../../../server/commands/held/release-target";
import { startDeliverFixture, type DeliverFixture } from "./fixture";

// Mail released from quarantine is queued at the release, maybe days after it came in. A DSN for it reports when
// the message arrived (RFC 3464 Arrival-Date), not when someone released it.
let f: DeliverFixture;

beforeAll(async () => {
  f = await startDeliverFixture({ users: ["nora@example.com"] });
});

afterAll(async () => {
  await f?.stop();
});

describe("DSN of released mail", () => {
  it("gives the message's arrival as its Arrival-Date, not the release", async () => {
    const message = await f.send("friend@nice.test", "nora@example.com");
    await waitForQueueIdle(f.db());
    const archived = (await archivedByMessageId(f.db(), message.messageId))!;
    const arrived = archived.deliveries[0]!.created_at;
    // Some seconds later the recipient's mail server refuses the released copy for good.
    await new Promise((r) => setTimeout(r, 3_000));
    f.sink.refuseRecipient("nora@example.com", 550, "5.2.1 <nora@example.com>: mailbox disabled");
    await f
      .db()
      .transaction()
      .execute((trx) =>
        gatewayReleaseTarget.release(trx, {
          heldId: "00000000-0000-0000-0000-000000000000",
          tenantId: f.tenantId,
          messageId: archived.message.id,
          userId: archived.links[0]?.user_id ?? null,
          recipient: "nora@example.com",
        }),
      );
    f.server.mailward.services.signals.deliveriesQueued();
    await f.sink.waitFor((all) => all.some((m) => m.mailFrom === "" && m.raw.includes(message.messageId)));
    const released = (await archivedByMessageId(f.db(), message.messageId))!.deliveries.find(
      (d) => d.purpose === "release",
    )!;
    expect(released.state).toBe("bounced");
    expect(released.created_at.getTime() - arrived.getTime()).toBeGreaterThan(2_900);
    const dsn = f.sink.messages.find((m) => m.mailFrom === "" && m.raw.includes(message.messageId))!;
    const arrival = Date.parse(/^Arrival-Date: (.+)$/m.exec(dsn.raw.toString("latin1"))?.[1] ?? "");
    // To the second (the field's precision): the gateway's session and its archive commit are a moment apart.
    expect(Math.abs(arrival - archived.message.received_at.getTime())).toBeLessThan(1_500);
    expect(released.created_at.getTime() - arrival).toBeGreaterThan(2_000);
  });
});
