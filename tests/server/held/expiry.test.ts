import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expireHeldItems, heldStatusCounts, startSelfServiceJobs } from "../../../server/jobs/held-expiry";
import { auditEvents, startSelfServiceFixture, type SelfServiceFixture } from "./support";

let f: SelfServiceFixture;

beforeAll(async () => {
  f = await startSelfServiceFixture();
});
afterAll(async () => {
  await f?.server.stop();
});

describe("held expiry job", () => {
  it("expires holds past their retention, closes pending requests, keeps the archive copy and audits", async () => {
    const user = await f.user();
    const past = new Date(Date.now() - 60_000);
    const stale = await f.held({ userId: user.id, recipient: user.email, expiresAt: past });
    const requested = await f.held({ userId: user.id, recipient: user.email, reason: "phish" });
    await user.client.request("POST", `/api/held/${requested.id}/request-release`, {});
    await f.db.updateTable("held_items").set({ expires_at: past }).where("id", "=", requested.id).execute();
    const fresh = await f.held({ userId: user.id, recipient: user.email });
    const released = await f.held({
      userId: user.id,
      recipient: user.email,
      status: "released",
      expiresAt: past,
    });

    const count = await expireHeldItems(f.server.mailward.services, new Date());
    expect(count).toBe(2);
    const statuses = await f.db
      .selectFrom("held_items")
      .select(["id", "status"])
      .where("id", "in", [stale.id, requested.id, fresh.id, released.id])
      .execute();
    expect(Object.fromEntries(statuses.map((s) => [s.id, s.status]))).toEqual({
      [stale.id]: "expired",
      [requested.id]: "expired",
      [fresh.id]: "held",
      [released.id]: "released",
    });
    const request = await f.db
      .selectFrom("release_requests")
      .select("status")
      .where("held_item_id", "=", requested.id)
      .executeTakeFirstOrThrow();
    expect(request.status).toBe("expired");
    const archived = await f.db
      .selectFrom("messages")
      .select("id")
      .where("id", "=", stale.messageId)
      .executeTakeFirst();
    expect(archived?.id).toBe(stale.messageId);
    const audit = await auditEvents(f.db, f.tenantId, "held.expired");
    expect(audit.at(-1)?.details).toMatchObject({ count: 2 });
    expect(await expireHeldItems(f.server.mailward.services, new Date())).toBe(0);

    const listed = await user.client.request("GET", `/api/held?status=expired`);
    expect((listed.json.items as Array<{ id: string }>).map((i) => i.id).sort()).toEqual(
      [stale.id, requested.id].sort(),
    );
    expect((await user.client.request("POST", `/api/held/${stale.id}/release`, {})).status).toBe(410);
  });

  it("pages through more items than one batch", async () => {
    const user = await f.user();
    for (let i = 0; i < 5; i++)
      await f.held({ userId: user.id, recipient: user.email, expiresAt: new Date(Date.now() - 1000) });
    expect(await expireHeldItems(f.server.mailward.services, new Date(), 2)).toBe(5);
    expect((await heldStatusCounts(f.server.mailward.services, f.tenantId)).held ?? 0).toBeGreaterThanOrEqual(
      0,
    );
  });

  it("runs as part of the scheduler round", async () => {
    const user = await f.user();
    const item = await f.held({
      userId: user.id,
      recipient: user.email,
      expiresAt: new Date(Date.now() - 1000),
    });
    const jobs = startSelfServiceJobs(f.server.mailward.services, 3_600_000);
    const round = await jobs.runOnce();
    await jobs.stop();
    expect(round.expired).toBe(1);
    const row = await f.db
      .selectFrom("held_items")
      .select("status")
      .where("id", "=", item.id)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe("expired");
  });

  it("lists an item past its expiry as expired before the job has marked it, under every status filter", async () => {
    const user = await f.user();
    const past = new Date(Date.now() - 60_000);
    const lapsed = await f.held({ userId: user.id, recipient: user.email, expiresAt: past });
    const asked = await f.held({ userId: user.id, recipient: user.email, reason: "phish" });
    await user.client.request("POST", `/api/held/${asked.id}/request-release`, {});
    await f.db.updateTable("held_items").set({ expires_at: past }).where("id", "=", asked.id).execute();
    const fresh = await f.held({ userId: user.id, recipient: user.email });
    const list = async (query: string) => {
      const res = await user.client.request("GET", `/api/held${query}`);
      expect(res.status).toBe(200);
      return Object.fromEntries(
        (res.json.items as Array<{ id: string; status: string; actions: string[] }>).map((i) => [
          i.id,
          `${i.status}:${i.actions.join(",")}`,
        ]),
      );
    };
    expect(await list("?status=held")).toEqual({
      [fresh.id]: "held:release,release-and-permit,block,delete",
    });
    expect(await list("?status=release_requested")).toEqual({});
    expect(await list("?status=expired")).toEqual({ [lapsed.id]: "expired:", [asked.id]: "expired:" });
    expect(await list("")).toEqual({
      [fresh.id]: "held:release,release-and-permit,block,delete",
      [lapsed.id]: "expired:",
      [asked.id]: "expired:",
    });
    // The job changes nothing that the list shows.
    await expireHeldItems(f.server.mailward.services, new Date());
    expect(await list("?status=expired")).toEqual({ [lapsed.id]: "expired:", [asked.id]: "expired:" });
    expect(await list("?status=held")).toEqual({
      [fresh.id]: "held:release,release-and-permit,block,delete",
    });
  });
});
