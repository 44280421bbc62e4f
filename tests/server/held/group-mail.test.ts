import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, deliveriesOf, startSelfServiceFixture, type SelfServiceFixture } from "./support";

type Person = Awaited<ReturnType<SelfServiceFixture["user"]>>;

let f: SelfServiceFixture;
let member: Person;
let stranger: Person;
let otherGroupMember: Person;
const SUPPORT = "support@example.com";
const SALES = "sales@example.com";

interface Item {
  id: string;
  to: string;
  toGroup: boolean;
  actions: string[];
}
const idsOf = (res: { json: { items?: unknown[] } }) => ((res.json.items ?? []) as Item[]).map((i) => i.id);

const groupMail = (extra: Partial<Parameters<SelfServiceFixture["held"]>[0]> = {}) =>
  f.held({ userId: null, recipient: SUPPORT, ...extra });

beforeAll(async () => {
  f = await startSelfServiceFixture();
  member = await f.user();
  stranger = await f.user();
  otherGroupMember = await f.user();
  await f.group(SUPPORT, "g-support", [member.id]);
  await f.group(SALES, "g-sales", [otherGroupMember.id]);
});
afterAll(async () => {
  await f?.server.stop();
});

describe("held mail sent to a group", () => {
  it("is listed for the group's members with their own, and for nobody else", async () => {
    const item = await groupMail();
    const own = await f.held({ userId: member.id, recipient: member.email });
    const listed = await member.client.request("GET", "/api/held");
    expect(listed.status).toBe(200);
    expect(idsOf(listed)).toEqual(expect.arrayContaining([item.id, own.id]));
    const shown = (listed.json.items as Item[]).find((i) => i.id === item.id);
    expect(shown).toMatchObject({ to: SUPPORT, toGroup: true, actions: ["release"] });
    const ownShown = (listed.json.items as Item[]).find((i) => i.id === own.id);
    expect(ownShown).toMatchObject({ to: member.email, toGroup: false });
    expect(idsOf(await member.client.request("GET", "/api/held?scope=mine"))).toContain(item.id);
    expect(idsOf(await stranger.client.request("GET", "/api/held"))).not.toContain(item.id);
    expect(idsOf(await otherGroupMember.client.request("GET", "/api/held"))).not.toContain(item.id);
  });

  it("is listed for a team lead in the group along with their team's, but not in the team scope", async () => {
    const team = await f.team();
    const lead = await f.user({ roles: ["team_lead"], teamId: team });
    await f.join("g-support", lead.id);
    const item = await groupMail();
    expect(idsOf(await lead.client.request("GET", "/api/held"))).toContain(item.id);
    expect(idsOf(await lead.client.request("GET", "/api/held?scope=team"))).not.toContain(item.id);
  });

  it("opens for a member without a held.view_other audit event; anyone else gets 404", async () => {
    const item = await groupMail();
    const res = await member.client.request("GET", `/api/held/${item.id}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ id: item.id, to: SUPPORT, actions: ["release"] });
    const viewed = await auditEvents(f.db, f.tenantId, "held.view_other");
    expect(viewed.some((e) => e.target_id === item.id)).toBe(false);
    expect((await stranger.client.request("GET", `/api/held/${item.id}`)).status).toBe(404);
    expect((await otherGroupMember.client.request("GET", `/api/held/${item.id}`)).status).toBe(404);
  });

  it("is released by a member to the group's address, once, audited as theirs", async () => {
    const item = await groupMail();
    const refused = await stranger.client.request("POST", `/api/held/${item.id}/release`, {});
    expect(refused.status).toBe(404);
    expect(await deliveriesOf(f.db, item.messageId)).toHaveLength(0);
    const res = await member.client.request("POST", `/api/held/${item.id}/release`, {});
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: "released", actions: [] });
    expect(await deliveriesOf(f.db, item.messageId)).toEqual([
      { recipient: SUPPORT, purpose: "release", state: "queued" },
    ]);
    const audit = await auditEvents(f.db, f.tenantId, "held.release");
    expect(audit.filter((e) => e.target_id === item.id).map((e) => e.actor_id)).toEqual([member.id]);
  });

  it("phish to a group: a member may only ask for its release", async () => {
    const item = await groupMail({ reason: "phish" });
    const detail = await member.client.request("GET", `/api/held/${item.id}`);
    expect(detail.json.actions).toEqual(["request-release"]);
    const release = await member.client.request("POST", `/api/held/${item.id}/release`, {});
    expect(release.status).toBe(403);
    expect(release.json.error).toBe("release_not_allowed");
    const asked = await member.client.request("POST", `/api/held/${item.id}/request-release`, {
      note: "This is our customer",
    });
    expect(asked.status).toBe(200);
    expect(asked.json.status).toBe("release_requested");
    expect(await deliveriesOf(f.db, item.messageId)).toHaveLength(0);
  });

  it("cannot be deleted, blocked or permitted by a member: sender lists are personal, the mail is everyone's", async () => {
    const item = await groupMail();
    for (const action of ["delete", "block", "release-and-permit"]) {
      const res = await member.client.request("POST", `/api/held/${item.id}/${action}`, {});
      expect(res.status, action).toBe(403);
    }
    const rules = await f.db
      .selectFrom("sender_rules")
      .select("id")
      .where("user_id", "=", member.id)
      .execute();
    expect(rules).toHaveLength(0);
    const row = await f.db
      .selectFrom("held_items")
      .select("status")
      .where("id", "=", item.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe("held");
  });

  it("is no longer a former member's, nor anyone's once the group's address is gone", async () => {
    const leaver = await f.user();
    await f.join("g-sales", leaver.id);
    const item = await f.held({ userId: null, recipient: SALES });
    expect((await leaver.client.request("GET", `/api/held/${item.id}`)).status).toBe(200);
    await f.db.deleteFrom("group_members").where("user_id", "=", leaver.id).execute();
    expect((await leaver.client.request("GET", `/api/held/${item.id}`)).status).toBe(404);
    expect(idsOf(await leaver.client.request("GET", "/api/held"))).not.toContain(item.id);

    expect((await otherGroupMember.client.request("GET", `/api/held/${item.id}`)).status).toBe(200);
    await f.db.deleteFrom("group_addresses").where("address", "=", SALES).execute();
    expect((await otherGroupMember.client.request("GET", `/api/held/${item.id}`)).status).toBe(404);
    expect(idsOf(await otherGroupMember.client.request("GET", "/api/held"))).not.toContain(item.id);
  });

  it("stays in a security admin's review, where looking at it is audited", async () => {
    const admin = await f.user({ roles: ["security_admin"] });
    const item = await groupMail();
    expect(idsOf(await admin.client.request("GET", "/api/held?scope=review"))).toContain(item.id);
    expect((await admin.client.request("GET", `/api/held/${item.id}`)).status).toBe(200);
    const viewed = await auditEvents(f.db, f.tenantId, "held.view_other");
    expect(viewed.some((e) => e.target_id === item.id && e.actor_id === admin.id)).toBe(true);
  });
});
