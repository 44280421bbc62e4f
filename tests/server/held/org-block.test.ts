import nodemailer from "nodemailer";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backfillHeldRules } from "../../../server/db/migrations/3100_held_rule";
import { sweptRuleOf } from "../../../server/graph/sweep";
import { sendDigest } from "../../../server/mail/digest/generate";
import { readStoredDigest } from "../digest/support";
import { deliveriesOf, startSelfServiceFixture, type SelfServiceFixture } from "./support";

/**
 * With `orgBlockAction: "hold"`, mail from a sender the organisation blocks is held as `blocked_sender`: IT's
 * decision, so its recipient (or their team lead) asks for a release and a security admin releases it. A hold from
 * the recipient's own block stays theirs to release.
 */

type Person = Awaited<ReturnType<SelfServiceFixture["user"]>>;

let f: SelfServiceFixture;
let admin: Person;
let lead: Person;
let agent: Person;
let n = 0;

beforeAll(async () => {
  f = await startSelfServiceFixture();
  admin = await f.user({ roles: ["security_admin"] });
  const team = await f.team();
  lead = await f.user({ roles: ["team_lead"], teamId: team });
  agent = await f.user({ teamId: team });
  expect((await admin.client.request("PUT", "/api/admin/settings", { orgBlockAction: "hold" })).status).toBe(
    200,
  );
  expect(
    (
      await admin.client.request("POST", "/api/admin/senders", {
        pattern: "org-blocked.example",
        kind: "block",
      })
    ).status,
  ).toBe(201);
});
afterAll(async () => {
  await f?.server.stop();
});

interface Listed {
  id: string;
  subject: string;
  reason: string;
  actions: string[];
}

/** Sends one message over SMTP and returns the recipient's held item for it. */
async function holdFor(person: Person, from: string): Promise<Listed> {
  n += 1;
  const subject = `Org block ${n} ${Date.now()}`;
  const transport = nodemailer.createTransport({
    host: "127.0.0.1",
    port: f.server.smtpPort,
    secure: false,
    ignoreTLS: true,
  });
  try {
    await transport.sendMail({ from, to: person.email, subject, text: "Hello." });
  } finally {
    transport.close();
  }
  const res = await person.client.request("GET", `/api/held?q=${encodeURIComponent(subject)}`);
  const item = (res.json.items as Listed[]).find((i) => i.subject === subject);
  if (!item) throw new Error(`${subject} was not held for ${person.email}`);
  return item;
}

async function ruleScopeOf(id: string): Promise<string | null> {
  const row = await f.db
    .selectFrom("held_items")
    .select("rule_scope")
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
  return row.rule_scope;
}

describe("a hold from the organisation's block list", () => {
  it("records that an organisation rule held it, and a personal rule's hold as the person's", async () => {
    const org = await holdFor(agent, "news@org-blocked.example");
    expect(org.reason).toBe("blocked_sender");
    expect(await ruleScopeOf(org.id)).toBe("tenant");
    const own = await f.user();
    await own.client.request("POST", "/api/senders", { pattern: "own-blocked.example", kind: "block" });
    const personal = await holdFor(own, "news@own-blocked.example");
    expect(personal.reason).toBe("blocked_sender");
    expect(await ruleScopeOf(personal.id)).toBe("user");
  });

  it("is not released by its recipient (403 release_not_allowed), who may request it; a security admin releases it", async () => {
    const item = await holdFor(agent, "offers@org-blocked.example");
    expect(item.actions).toEqual(["block", "delete", "request-release"]);
    const release = await agent.client.request("POST", `/api/held/${item.id}/release`, {});
    expect([release.status, release.json.error]).toEqual([403, "release_not_allowed"]);
    expect(release.json.message).toContain("organisation blocks");
    const permit = await agent.client.request("POST", `/api/held/${item.id}/release-and-permit`, {});
    expect([permit.status, permit.json.error]).toEqual([403, "release_not_allowed"]);
    const bulk = await agent.client.request("POST", "/api/held/bulk", { ids: [item.id], action: "release" });
    expect(bulk.json.results).toEqual([{ id: item.id, ok: false, error: "release_not_allowed" }]);
    expect(await deliveriesOf(f.db, (await messageOf(item.id)).message_id)).toHaveLength(0);

    const asked = await agent.client.request("POST", `/api/held/${item.id}/request-release`, {
      note: "Our supplier",
    });
    expect([asked.status, asked.json.status]).toEqual([200, "release_requested"]);
    const queue = await admin.client.request("GET", "/api/admin/held/requests");
    expect((queue.json.items as Array<{ heldId: string }>).some((r) => r.heldId === item.id)).toBe(true);
    const approved = await admin.client.request("POST", `/api/admin/held/${item.id}/approve`, {});
    expect([approved.status, approved.json.status]).toEqual([200, "released"]);
    const sends = await deliveriesOf(f.db, (await messageOf(item.id)).message_id);
    expect(sends.filter((d) => d.purpose === "release")).toHaveLength(1);
  });

  it("is not released by the recipient's team lead either", async () => {
    const item = await holdFor(agent, "promo@org-blocked.example");
    const team = await lead.client.request("GET", "/api/held?scope=team");
    expect((team.json.items as Listed[]).find((i) => i.id === item.id)?.actions).toEqual([]);
    const release = await lead.client.request("POST", `/api/held/${item.id}/release`, {});
    expect([release.status, release.json.error]).toEqual([403, "release_not_allowed"]);
  });

  it("is released directly by a security admin, but never with a personal permit (the organisation's block wins)", async () => {
    const item = await holdFor(admin, "sales@org-blocked.example");
    expect(item.actions).toEqual(["release", "block", "delete"]);
    const permit = await admin.client.request("POST", `/api/held/${item.id}/release-and-permit`, {});
    expect([permit.status, permit.json.error]).toEqual([403, "forbidden"]);
    expect(permit.json.message).toContain("organisation blocks");
    const rules = await f.db
      .selectFrom("sender_rules")
      .select("id")
      .where("user_id", "=", admin.id)
      .where("kind", "=", "permit")
      .execute();
    expect(rules).toEqual([]);
    const release = await admin.client.request("POST", `/api/held/${item.id}/release`, {});
    expect([release.status, release.json.status]).toEqual([200, "released"]);
  });

  it("keeps a personal block's hold releasable by its recipient", async () => {
    const person = await f.user();
    await person.client.request("POST", "/api/senders", { pattern: "mine-blocked.example", kind: "block" });
    const item = await holdFor(person, "hello@mine-blocked.example");
    expect(item.actions).toEqual(["release", "release-and-permit", "block", "delete"]);
    expect((await person.client.request("POST", `/api/held/${item.id}/release`, {})).status).toBe(200);
  });

  it("is recorded for mail a Graph sweep holds after the organisation's block (and not for an old queued sweep)", () => {
    const ruleId = "6f1c1d4e-7d1a-4a57-9a43-0b4b9c1e2f3a";
    expect(sweptRuleOf({ pattern: "x.example", ruleId, scope: "tenant", hold: true })).toEqual({
      rule_id: ruleId,
      rule_scope: "tenant",
    });
    expect(sweptRuleOf({ pattern: "x.example", ruleId, hold: true })).toEqual({
      rule_id: null,
      rule_scope: null,
    });
  });

  it("offers 'ask security' instead of release links in the digest", async () => {
    const person = await f.user();
    await holdFor(person, "digest@org-blocked.example");
    const result = await sendDigest(
      f.server.mailward.services,
      f.tenantId,
      person.id,
      new Date(Date.now() + 2 * 60_000),
    );
    const digest = await readStoredDigest(f.db, f.tenantId, result.digestId!);
    expect(digest.links.map((l) => l.action)).toEqual(["request-release", "block"]);
  });

  it("is recognised in holds made before the column existed, from the stored verdict (migration 3100)", async () => {
    const org = await holdFor(agent, "old@org-blocked.example");
    const person = await f.user();
    await person.client.request("POST", "/api/senders", { pattern: "old-own.example", kind: "block" });
    const personal = await holdFor(person, "old@old-own.example");
    await sql`UPDATE held_items SET rule_scope = NULL, rule_id = NULL WHERE id IN (${org.id}, ${personal.id})`.execute(
      f.db,
    );
    await backfillHeldRules(f.db);
    expect(await ruleScopeOf(org.id)).toBe("tenant");
    expect(await ruleScopeOf(personal.id)).toBe("user");
    const release = await agent.client.request("POST", `/api/held/${org.id}/release`, {});
    expect(release.json.error).toBe("release_not_allowed");
  });
});

async function messageOf(heldId: string) {
  return f.db
    .selectFrom("held_items")
    .select("message_id")
    .where("id", "=", heldId)
    .executeTakeFirstOrThrow();
}
