import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { buildUser } from "../../factories";
import { randomToken, sessionIdFor } from "../../../server/auth/sessions";
import { pruneExpiredPasswordLinks, pruneExpiredSessions } from "../../../server/commands/auth/prune-expired";
import { startSelfServiceJobs } from "../../../server/jobs/held-expiry";
import { defaultTenantId } from "./auth-helpers";

/**
 * Expired sessions and password links are deleted by the self-service round, a bounded batch at a time; a session
 * or a link still valid stays, and still works.
 */
let server: TestServer;
const clock = new Date("2026-03-02T09:00:00Z");
let tenantId: string;
let userId: string;
let email: string;
const PASSWORD = "a long enough passphrase";

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" }, { now: () => clock });
  tenantId = await defaultTenantId(server.mailward.services.db);
  const user = await buildUser(server.mailward.services.db, { tenantId, password: PASSWORD });
  userId = user.id;
  email = user.email;
});
afterAll(async () => {
  await server?.stop();
});

const db = () => server.mailward.services.db;
const minutesFromNow = (minutes: number) => new Date(clock.getTime() + minutes * 60_000);

/** A session row expiring at `expiresAt`; returns its id. */
async function sessionRow(expiresAt: Date): Promise<string> {
  const id = sessionIdFor(randomToken());
  await db()
    .insertInto("sessions")
    .values({ id, tenant_id: tenantId, user_id: userId, csrf_token: randomToken(24), expires_at: expiresAt })
    .execute();
  return id;
}

/** A password link expiring at `expiresAt` (used at `usedAt`); returns its token and id. */
async function linkRow(expiresAt: Date, usedAt: Date | null = null): Promise<{ token: string; id: string }> {
  const token = randomToken(32);
  const id = sessionIdFor(token);
  await db()
    .insertInto("password_resets")
    .values({
      id,
      tenant_id: tenantId,
      user_id: userId,
      purpose: "reset",
      expires_at: expiresAt,
      used_at: usedAt,
    })
    .execute();
  return { token, id };
}

const storedSessions = async (ids: string[]) =>
  (await db().selectFrom("sessions").select("id").where("id", "in", ids).execute()).map((r) => r.id).sort();
const storedLinks = async (ids: string[]) =>
  (await db().selectFrom("password_resets").select("id").where("id", "in", ids).execute())
    .map((r) => r.id)
    .sort();

describe("the self-service round prunes expired sessions and password links", () => {
  it("deletes the expired ones and keeps those still valid, which still work", async () => {
    const signedIn = new ApiClient(server.baseUrl);
    expect((await signedIn.login(email, PASSWORD)).status).toBe(200);
    const live = (
      await db()
        .selectFrom("sessions")
        .select("id")
        .where("user_id", "=", userId)
        .where("expires_at", ">", clock)
        .execute()
    ).map((r) => r.id);
    const expired = [await sessionRow(minutesFromNow(-60 * 24 * 30)), await sessionRow(clock)];
    const valid = await sessionRow(minutesFromNow(1));
    const oldLink = await linkRow(minutesFromNow(-1));
    const usedAndExpired = await linkRow(minutesFromNow(-60), minutesFromNow(-90));
    const usedNotExpired = await linkRow(minutesFromNow(20), minutesFromNow(-5));
    const validLink = await linkRow(minutesFromNow(20));

    const jobs = startSelfServiceJobs(server.mailward.services, 3_600_000);
    const round = await jobs.runOnce(clock);
    await jobs.stop();

    expect(round.sessionsPruned).toBe(2);
    expect(round.passwordLinksPruned).toBe(2);
    expect(await storedSessions([...expired, valid, ...live])).toEqual([valid, ...live].sort());
    expect(await storedLinks([oldLink.id, usedAndExpired.id, usedNotExpired.id, validLink.id])).toEqual(
      [usedNotExpired.id, validLink.id].sort(),
    );
    // What stayed still works: the signed-in session, and the valid link sets a password.
    expect((await signedIn.request("GET", "/api/me")).status).toBe(200);
    const confirm = await new ApiClient(server.baseUrl).request("POST", "/api/auth/password-reset/confirm", {
      token: validLink.token,
      password: "another long enough passphrase",
    });
    expect(confirm.status).toBe(200);
  });

  it("goes through more expired sessions and links than one batch, a bounded statement at a time", async () => {
    const oldSessions = [];
    const oldLinks = [];
    for (let i = 0; i < 5; i += 1) {
      oldSessions.push(await sessionRow(minutesFromNow(-1 - i)));
      oldLinks.push((await linkRow(minutesFromNow(-1 - i))).id);
    }
    const freshSession = await sessionRow(minutesFromNow(60));
    const freshLink = (await linkRow(minutesFromNow(60))).id;
    expect(await pruneExpiredSessions(db(), clock, 2)).toBe(5);
    expect(await pruneExpiredPasswordLinks(db(), clock, 2)).toBe(5);
    expect(await storedSessions([...oldSessions, freshSession])).toEqual([freshSession]);
    expect(await storedLinks([...oldLinks, freshLink])).toEqual([freshLink]);
  });
});
