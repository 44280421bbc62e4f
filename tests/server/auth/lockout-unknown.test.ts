import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { buildUser } from "../../factories";
import { authenticateSubmitter } from "../../../server/commands/auth/smtp-sign-in";
import { DUMMY_PASSWORD_HASH, hashPassword } from "../../../server/auth/passwords";
import { defaultTenantId } from "./auth-helpers";

/** The lockout must not tell who has an account: an unknown address answers, at every attempt, as a real one does. */
let server: TestServer;
let clock = new Date("2026-03-02T09:00:00Z");
let tenantId: string;
const PASSWORD = "a long enough passphrase";

beforeAll(async () => {
  server = await startTestServer(
    { MAILWARD_LOCKOUT_THRESHOLD: "3", MAILWARD_LOCKOUT_MINUTES: "10", MAILWARD_LOGIN_RATE_LIMIT: "1000" },
    { now: () => clock },
  );
  tenantId = await defaultTenantId(server.mailward.services.db);
});
afterAll(async () => {
  await server?.stop();
});

/** Status, error id and message of a password sign-in: everything the caller learns. */
async function answer(email: string, password: string) {
  const res = await new ApiClient(server.baseUrl).login(email, password);
  return { status: res.status, error: res.json.error, message: res.json.message };
}

/** The answers of the same run of wrong passwords for each address, side by side. */
async function sameRun(emails: string[], password: string) {
  return Promise.all(emails.map((email) => answer(email, password)));
}

const unknownAddress = () => `nobody-${Math.random().toString(36).slice(2)}@example.com`;

describe("POST /api/auth/login: an unknown address and a real account answer alike", () => {
  it("the same 401 up to the threshold, the same 423 after it, and the same 401 once the lock ends", async () => {
    const real = await buildUser(server.mailward.services.db, { tenantId, password: PASSWORD });
    // Signs in with Microsoft only: no password, so for a password sign-in it is like an unknown address.
    const entraOnly = await buildUser(server.mailward.services.db, { tenantId });
    const emails = [real.email, unknownAddress(), entraOnly.email];
    const first = await sameRun(emails, "wrong password 1");
    const invalid = first[0];
    expect(invalid).toMatchObject({ status: 401, error: "invalid_credentials" });
    expect(first).toEqual([invalid, invalid, invalid]);
    // Threshold 3: the third failure locks, and still answers 401.
    for (const password of ["wrong password 2", "wrong password 3"])
      expect(await sameRun(emails, password)).toEqual([invalid, invalid, invalid]);
    const locked = await sameRun(emails, PASSWORD);
    expect(locked[0]).toMatchObject({ status: 423, error: "account_locked" });
    expect(locked).toEqual([locked[0], locked[0], locked[0]]);
    clock = new Date(clock.getTime() + 9 * 60_000);
    expect(await sameRun(emails, "wrong password 4")).toEqual([locked[0], locked[0], locked[0]]);
    clock = new Date(clock.getTime() + 2 * 60_000);
    expect(await sameRun(emails, "wrong password 5")).toEqual([invalid, invalid, invalid]);
  });

  it("counts an unknown address's failures whatever its case, as a real account's", async () => {
    const address = unknownAddress();
    for (const typed of [address, address.toUpperCase(), address.replace(/^n/, "N")])
      expect((await answer(typed, "wrong password")).error).toBe("invalid_credentials");
    expect(await answer(address.toUpperCase(), "wrong password")).toMatchObject({
      status: 423,
      error: "account_locked",
    });
  });

  it("wrong SMTP passwords lock an unknown address as they lock a real account", async () => {
    const services = server.mailward.services;
    const real = await buildUser(services.db, { tenantId, password: PASSWORD });
    const entraOnly = await buildUser(services.db, { tenantId });
    const emails = [real.email, unknownAddress(), entraOnly.email];
    for (let i = 0; i < 3; i += 1)
      for (const email of emails)
        expect(await authenticateSubmitter(services, email, `wrong password ${i}`, "192.0.2.7")).toBeNull();
    const answers = await sameRun(emails, "wrong password");
    expect(answers[0]).toMatchObject({ status: 423, error: "account_locked" });
    expect(answers).toEqual([answers[0], answers[0], answers[0]]);
  });
});

describe("the argon2 work for an unknown address", () => {
  it("verifies against a ready-made hash with the parameters of a real one (none is made at the first unknown address)", async () => {
    const parameters = (hash: string) => hash.split("$").slice(1, 4).join("$");
    expect(parameters(DUMMY_PASSWORD_HASH)).toBe(parameters(await hashPassword("any password at all")));
  });
});
