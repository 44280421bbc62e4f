import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { linkUrl, sendDigest } from "../../../server/mail/digest/generate";
import { createActionLink, linkSecret } from "../../../server/mail/digest/links";
import { runDueDigests } from "../../../server/mail/digest/schedule";
import { auditEvents, deliveriesOf, startSelfServiceFixture, type SelfServiceFixture } from "../held/support";
import { storedTenantSecret } from "../../support/tenant-secrets";
import { follow, readArchivedDigest, readStoredDigest } from "./support";

let f: SelfServiceFixture;
const later = () => new Date(Date.now() + 2 * 60_000);

beforeAll(async () => {
  f = await startSelfServiceFixture();
});
afterAll(async () => {
  await f?.server.stop();
});

/** Where a held item stands now (held, released, deleted, release_requested…). */
async function heldStatus(id: string): Promise<string> {
  const row = await f.db
    .selectFrom("held_items")
    .select("status")
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
  return row.status;
}

/** Points the digest's public URLs at the test server. */
const local = (url: string) => url.replace(/^https?:\/\/[^/]+/, f.server.baseUrl);

describe("digest mail", () => {
  it("lists new holds with signed links and the security phrase, is queued for delivery and audited", async () => {
    const user = await f.user();
    expect(
      (await user.client.request("PUT", "/api/me/security-phrase", { phrase: "purple giraffe 42" })).status,
    ).toBe(204);
    const spam = await f.held({
      userId: user.id,
      recipient: user.email,
      subject: "Cheap pills",
      createdAt: new Date(Date.now() - 5 * 60_000),
    });
    const phish = await f.held({
      userId: user.id,
      recipient: user.email,
      subject: "Reset your password",
      reason: "phish",
      createdAt: new Date(Date.now() - 4 * 60_000),
    });
    const result = await sendDigest(f.server.mailward.services, f.tenantId, user.id, later());
    expect(result.items).toBe(2);
    const digest = await readStoredDigest(f.db, f.tenantId, result.digestId!);
    expect(digest.subject).toBe("Mailward: 2 messages held for you");
    expect(digest.html).toContain("purple giraffe 42");
    expect(digest.text).toContain("Your security phrase: purple giraffe 42");
    expect(digest.links.map((l) => l.action)).toEqual([
      "release",
      "release-and-permit",
      "block",
      "request-release",
      "block",
    ]);
    for (const link of digest.links)
      expect(link.url).toMatch(/^http:\/\/localhost:3000\/d\/[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    // The archive keeps the digest, not its links: they act without a sign-in.
    const archived = await readArchivedDigest(f.db, f.tenantId, result.digestId!);
    expect(archived.links.map((l) => l.url)).toEqual(
      digest.links.map(() => "[link removed from the archived copy]"),
    );
    expect(`${archived.html}${archived.text}`).not.toMatch(/\/d\//);
    expect(archived.text).toContain("Your security phrase: purple giraffe 42");
    const queued = await f.db
      .selectFrom("deliveries as d")
      .innerJoin("digests as g", "g.message_id", "d.message_id")
      .select(["d.recipient", "d.purpose"])
      .where("g.id", "=", result.digestId!)
      .execute();
    expect(queued).toEqual([{ recipient: user.email, purpose: "digest" }]);
    const audit = await auditEvents(f.db, f.tenantId, "digest.sent");
    expect(audit.find((e) => e.target_id === user.id)?.details).toMatchObject({
      items: 2,
      heldIds: [spam.id, phish.id],
      phraseShown: true,
    });
    const again = await sendDigest(f.server.mailward.services, f.tenantId, user.id, later());
    expect(again).toEqual({ digestId: null, items: 0 });
  });

  it("lists only holds that are new since the last digest and still held", async () => {
    const user = await f.user();
    await f.held({
      userId: user.id,
      recipient: user.email,
      subject: "First",
      createdAt: new Date(Date.now() - 10 * 60_000),
    });
    await f.held({
      userId: user.id,
      recipient: user.email,
      subject: "Gone",
      status: "deleted",
      createdAt: new Date(Date.now() - 10 * 60_000),
    });
    const first = await sendDigest(
      f.server.mailward.services,
      f.tenantId,
      user.id,
      new Date(Date.now() - 3 * 60_000),
    );
    expect(first.items).toBe(1);
    await f.held({
      userId: user.id,
      recipient: user.email,
      subject: "Second",
      createdAt: new Date(Date.now() - 2 * 60_000 - 30_000),
    });
    const second = await sendDigest(f.server.mailward.services, f.tenantId, user.id, later());
    const digest = await readStoredDigest(f.db, f.tenantId, second.digestId!);
    expect(digest.subject).toBe("Mailward: 1 message held for you");
    expect(digest.text).toContain("Second");
    expect(digest.text).not.toContain("First");
    expect(digest.html).toContain("You have not set a security phrase yet");
  });

  it("runs each scheduled slot once per tenant, after a baseline, and only for people with new holds", async () => {
    const user = await f.user();
    const quiet = await f.user();
    await f.held({
      userId: user.id,
      recipient: user.email,
      createdAt: new Date("2030-01-01T09:00:00Z"),
      expiresAt: new Date("2030-01-15T09:00:00Z"),
    });
    const services = f.server.mailward.services;
    await f.db.deleteFrom("digest_slots").where("tenant_id", "=", f.tenantId).execute();
    const baseline = await runDueDigests(services, new Date("2030-01-01T12:00:00Z"));
    expect(baseline.digests).toBe(0);
    const due = await runDueDigests(services, new Date("2030-01-01T16:01:00Z"));
    expect(due.slots).toBe(1);
    const sent = await f.db
      .selectFrom("digests")
      .select("user_id")
      .where("created_at", ">=", new Date(Date.now() - 60_000))
      .execute();
    expect(sent.map((s) => s.user_id)).toContain(user.id);
    expect(sent.map((s) => s.user_id)).not.toContain(quiet.id);
    const twice = await runDueDigests(services, new Date("2030-01-01T16:05:00Z"));
    expect(twice).toEqual({ slots: 0, digests: 0, items: 0 });
  });
});

describe("digest links (/d/:token)", () => {
  /** A release link for one held item signed with `secret`, as a digest signs it or as a forger would try. */
  async function releaseLink(heldItemId: string, userId: string, secret: Buffer): Promise<string> {
    const token = await f.db.transaction().execute((trx) =>
      createActionLink(trx, {
        tenantId: f.tenantId,
        heldItemId,
        userId,
        action: "release",
        digestId: null,
        now: new Date(),
        secret,
      }),
    );
    return local(linkUrl(f.server.mailward.services, token));
  }

  async function digestFor(reason = "spam", from = "Shop <shop@store.example>") {
    const user = await f.user();
    const held = await f.held({
      userId: user.id,
      recipient: user.email,
      reason,
      from,
      createdAt: new Date(Date.now() - 5 * 60_000),
    });
    const result = await sendDigest(f.server.mailward.services, f.tenantId, user.id, later());
    const digest = await readStoredDigest(f.db, f.tenantId, result.digestId!);
    return { user, held, links: Object.fromEntries(digest.links.map((l) => [l.action, local(l.url)])) };
  }

  it("confirms on GET without acting, releases once on POST without a sign-in, then says 'already used'", async () => {
    const { held, links } = await digestFor();
    const page = await follow(links.release!);
    expect(page.status).toBe(200);
    expect(page.text).toContain("Release this message");
    expect(page.headers.get("cache-control")).toBe("no-store");
    expect(await deliveriesOf(f.db, held.messageId)).toHaveLength(0);
    const done = await follow(links.release!, "POST");
    expect(done.status).toBe(200);
    expect(done.text).toContain("Released");
    expect(await deliveriesOf(f.db, held.messageId)).toEqual([
      expect.objectContaining({ purpose: "release" }),
    ]);
    for (const method of ["GET", "POST"] as const) {
      const used = await follow(links.release!, method);
      expect(used.status).toBe(410);
      expect(used.text).toContain("This link was already used");
      expect(used.headers.get("content-type")).toContain("text/html");
    }
    expect(await deliveriesOf(f.db, held.messageId)).toHaveLength(1);
    const audit = await auditEvents(f.db, f.tenantId, "held.release");
    expect(audit.find((e) => e.target_id === held.id)?.details).toMatchObject({ via: "digest_link" });
  });

  it("shows nothing of the message to a link's owner who may no longer read it (disabled, or not the recipient)", async () => {
    const { user, held, links } = await digestFor("spam", "Shop <shop@store.example>");
    expect((await follow(links.release!)).text).toContain("shop@store.example");
    const stranger = await f.user();
    const secret = await linkSecret(f.db, f.tenantId, f.server.mailward.services.secretKey);
    const strangers = await follow(await releaseLink(held.id, stranger.id, secret));
    expect(strangers.status).toBe(400);
    expect(strangers.text).toContain("This link is not valid");
    expect(strangers.text).not.toContain("shop@store.example");
    await f.db.updateTable("users").set({ disabled_at: new Date() }).where("id", "=", user.id).execute();
    const disabled = await follow(links.release!);
    expect(disabled.status).toBe(400);
    expect(disabled.text).not.toContain("shop@store.example");
    expect(await heldStatus(held.id)).toBe("held");
  });

  it("uses a link once even when clicked twice at the same time", async () => {
    const { held, links } = await digestFor();
    const pages = await Promise.all([
      follow(links.release!, "POST"),
      follow(links.release!, "POST"),
      follow(links.release!, "POST"),
    ]);
    expect(pages.filter((p) => p.status === 200)).toHaveLength(1);
    expect(pages.filter((p) => p.text.includes("already used"))).toHaveLength(2);
    expect(await deliveriesOf(f.db, held.messageId)).toHaveLength(1);
  });

  it("shows a clear page for a tampered link (400), and the action cannot be swapped", async () => {
    const { held, links } = await digestFor();
    const url = links.block!;
    const token = url.split("/d/")[1]!;
    const [id, sig] = token.split(".");
    const flipped = `${id}.${sig!.slice(0, -1)}${sig!.endsWith("A") ? "B" : "A"}`;
    const releaseId = links.release!.split("/d/")[1]!.split(".")[0];
    for (const bad of [flipped, `${releaseId}.${sig}`, "garbage", `${id}`]) {
      const page = await follow(`${f.server.baseUrl}/d/${bad}`, "POST");
      expect(page.status, bad).toBe(400);
      expect(page.text).toContain("This link is not valid");
    }
    expect(await heldStatus(held.id)).toBe("held");
  });

  it("shows 'expired' after 72 hours, and for an item whose retention ran out", async () => {
    const { held, links } = await digestFor();
    await f.db
      .updateTable("action_links")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("held_item_id", "=", held.id)
      .execute();
    const page = await follow(links.release!, "POST");
    expect(page.text).toContain("This link is not valid");
    const other = await digestFor();
    await f.db
      .updateTable("held_items")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", other.held.id)
      .execute();
    const expired = await follow(other.links.release!);
    expect(expired.status).toBe(410);
    expect(expired.text).toContain("This link has expired");
    const posted = await follow(other.links.release!, "POST");
    expect(posted.status).toBe(410);
    expect(await deliveriesOf(f.db, other.held.messageId)).toHaveLength(0);
  });

  it("cannot be signed with what the database holds alone (the key is bound to the server key)", async () => {
    const { user, held } = await digestFor();
    const stored = await storedTenantSecret(f.db, f.tenantId, "digest-links");
    const page = await follow(await releaseLink(held.id, user.id, stored), "POST");
    expect(page.status).toBe(400);
    expect(page.text).toContain("This link is not valid");
    expect(await deliveriesOf(f.db, held.messageId)).toHaveLength(0);
  });

  it("acts with no more than an agent's permissions, even for a security admin's own link", async () => {
    // Digests never offer Release for phish; a link that says so anyway (a bug, a tampered row) must not let the
    // holder of the mail use its owner's review powers, which the owner could only use signed in with TOTP.
    const admin = await f.user({ roles: ["security_admin"] });
    const held = await f.held({ userId: admin.id, recipient: admin.email, reason: "phish" });
    const secret = await linkSecret(f.db, f.tenantId, f.server.mailward.services.secretKey);
    const page = await follow(await releaseLink(held.id, admin.id, secret), "POST");
    expect(page.status).toBe(409);
    expect(page.text).toContain("This could not be done");
    expect(await deliveriesOf(f.db, held.messageId)).toHaveLength(0);
    expect(await heldStatus(held.id)).toBe("held");
    // Signed in, the same person releases it (they review phish).
    const res = await admin.client.request("POST", `/api/held/${held.id}/release`, {});
    expect(res.status, res.text).toBe(200);
  });

  it("blocks the sender from the Block link, and offers phish only a release request", async () => {
    const { user, held, links } = await digestFor("spam", "Pest <pest@junk.example>");
    expect((await follow(links.block!, "POST")).text).toContain("Blocked");
    const rule = await f.db
      .selectFrom("sender_rules")
      .select(["kind", "pattern"])
      .where("user_id", "=", user.id)
      .executeTakeFirstOrThrow();
    expect(rule).toEqual({ kind: "block", pattern: "pest@junk.example" });
    expect(await heldStatus(held.id)).toBe("deleted");
    const released = await follow(links.release!, "POST");
    expect(released.status).toBe(409);
    expect(released.text).toContain("already handled");
    const phish = await digestFor("phish");
    expect(phish.links.release).toBeUndefined();
    expect((await follow(phish.links["request-release"]!, "POST")).text).toContain("Requested");
    expect(await heldStatus(phish.held.id)).toBe("release_requested");
  });
});

describe("PUT /api/me/security-phrase", () => {
  it("refuses phrases that are too short, too long or contain markup (400), and unauthenticated callers (401)", async () => {
    const user = await f.user();
    for (const phrase of ["ab", "x".repeat(65), "<b>bold</b>", "two\nlines"]) {
      expect((await user.client.request("PUT", "/api/me/security-phrase", { phrase })).status, phrase).toBe(
        400,
      );
    }
    const anonymous = await fetch(`${f.server.baseUrl}/api/me/security-phrase`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ phrase: "hello there" }),
    });
    expect(anonymous.status).toBe(401);
    expect(
      (await auditEvents(f.db, f.tenantId, "me.security_phrase_set")).every(
        (e) => !JSON.stringify(e.details).includes("purple"),
      ),
    ).toBe(true);
  });
});
