import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendDigest } from "../../../server/mail/digest/generate";
import { runDueDigests } from "../../../server/mail/digest/schedule";
import { deliveriesOf, startSelfServiceFixture, type SelfServiceFixture } from "../held/support";
import { follow, readStoredDigest } from "./support";

// Held group mail reaches the group's members in their digests, with the one action they may take.
let f: SelfServiceFixture;
const later = () => new Date(Date.now() + 2 * 60_000);
const local = (url: string) => url.replace(/^https?:\/\/[^/]+/, f.server.baseUrl);

beforeAll(async () => {
  f = await startSelfServiceFixture();
});
afterAll(async () => {
  await f?.server.stop();
});

describe("digests of group mail", () => {
  it("lists the group's held mail for each member, says so, and offers only a release (or its request)", async () => {
    const member = await f.user();
    const outsider = await f.user();
    await f.group("help@example.com", "g-help", [member.id]);
    const spam = await f.held({
      userId: null,
      recipient: "help@example.com",
      subject: "Customer asks about order",
      createdAt: new Date(Date.now() - 5 * 60_000),
    });
    await f.held({
      userId: null,
      recipient: "help@example.com",
      subject: "Your mailbox is full",
      reason: "phish",
      createdAt: new Date(Date.now() - 4 * 60_000),
    });
    await f.held({
      userId: member.id,
      recipient: member.email,
      subject: "Own spam",
      createdAt: new Date(Date.now() - 3 * 60_000),
    });
    const result = await sendDigest(f.server.mailward.services, f.tenantId, member.id, later());
    expect(result.items).toBe(3);
    const digest = await readStoredDigest(f.db, f.tenantId, result.digestId!);
    expect(digest.text).toContain("To: help@example.com (a group you are in)");
    expect(digest.html).toContain("To: help@example.com (a group you are in)");
    expect(digest.text.match(/a group you are in/g)).toHaveLength(2);
    expect(digest.links.map((l) => l.action)).toEqual([
      "release",
      "request-release",
      "release",
      "release-and-permit",
      "block",
    ]);
    expect(await sendDigest(f.server.mailward.services, f.tenantId, outsider.id, later())).toEqual({
      digestId: null,
      items: 0,
    });

    // The member's link releases the group's mail to the group's address, without a sign-in.
    const done = await follow(local(digest.links[0]!.url), "POST");
    expect(done.status).toBe(200);
    expect(done.text).toContain("Released");
    expect(await deliveriesOf(f.db, spam.messageId)).toEqual([
      { recipient: "help@example.com", purpose: "release", state: "queued" },
    ]);
  });

  it("is sent on schedule to members who have nothing held of their own", async () => {
    const member = await f.user();
    const outsider = await f.user();
    await f.group("desk@example.com", "g-desk", [member.id]);
    await f.held({
      userId: null,
      recipient: "desk@example.com",
      createdAt: new Date("2031-01-01T09:00:00Z"),
      expiresAt: new Date("2031-01-15T09:00:00Z"),
    });
    const services = f.server.mailward.services;
    await f.db.deleteFrom("digest_slots").where("tenant_id", "=", f.tenantId).execute();
    await runDueDigests(services, new Date("2031-01-01T12:00:00Z"));
    const due = await runDueDigests(services, new Date("2031-01-01T16:01:00Z"));
    expect(due.slots).toBe(1);
    const sent = await f.db.selectFrom("digests").select("user_id").execute();
    expect(sent.map((s) => s.user_id)).toContain(member.id);
    expect(sent.map((s) => s.user_id)).not.toContain(outsider.id);
    // Listed once: the next slot finds it in the member's last digest.
    const next = await runDueDigests(services, new Date("2031-01-02T08:01:00Z"));
    expect(next).toMatchObject({ slots: 1, digests: 0 });
  });
});
