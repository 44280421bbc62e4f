import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { buildUser } from "../../factories";
import { openTotpSecret, sealTotpSecret } from "../../../server/auth/totp-at-rest";
import { codeAt, defaultTenantId, enrolTotp } from "./auth-helpers";

let server: TestServer;
let clock = new Date("2026-03-02T09:00:00Z");
let tenantId: string;
const PASSWORD = "a long enough passphrase";

beforeAll(async () => {
  server = await startTestServer({}, { now: () => clock });
  tenantId = await defaultTenantId(server.mailward.services.db);
});
afterAll(async () => {
  await server?.stop();
});

const tick = (seconds: number) => {
  clock = new Date(clock.getTime() + seconds * 1000);
};

async function enrolled() {
  const user = await buildUser(server.mailward.services.db, { tenantId, password: PASSWORD });
  const client = new ApiClient(server.baseUrl);
  expect((await client.login(user.email, PASSWORD)).status).toBe(200);
  const { secret } = await enrolTotp(client, clock);
  tick(30);
  return { user, secret };
}

async function storedSecret(userId: string): Promise<string | null> {
  const row = await server.mailward.services.db
    .selectFrom("users")
    .select("totp_secret")
    .where("id", "=", userId)
    .executeTakeFirstOrThrow();
  return row.totp_secret;
}

describe("TOTP secrets at rest", () => {
  it("are stored encrypted (no base32 secret in the row), and sign-in with TOTP still works", async () => {
    const { user, secret } = await enrolled();
    const stored = await storedSecret(user.id);
    expect(stored).toMatch(/^v1:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$/);
    expect(stored).not.toContain(secret);
    expect(stored).not.toMatch(/[A-Z2-7]{32}/);
    expect(openTotpSecret(server.mailward.services.secretKey, user.id, stored ?? "")).toBe(secret);

    const login = (totp?: string) => new ApiClient(server.baseUrl).login(user.email, PASSWORD, totp);
    expect((await login()).json.error).toBe("mfa_required");
    expect((await login(codeAt(secret, clock, 5))).json.error).toBe("invalid_mfa_code");
    expect((await login(codeAt(secret, clock))).status).toBe(200);
  });

  it("encrypt each secret afresh: the same secret twice gives two different values", () => {
    const key = server.mailward.services.secretKey;
    const one = sealTotpSecret(key, "u1", "JBSWY3DPEHPK3PXP");
    expect(sealTotpSecret(key, "u1", "JBSWY3DPEHPK3PXP")).not.toBe(one);
    expect(openTotpSecret(key, "u1", one)).toBe("JBSWY3DPEHPK3PXP");
    expect(openTotpSecret(Buffer.alloc(32, 1), "u1", one)).toBeNull();
    const [version, iv, tag, ciphertext] = one.split(":");
    const flipped = `${ciphertext?.startsWith("A") ? "B" : "A"}${ciphertext?.slice(1) ?? ""}`;
    expect(openTotpSecret(key, "u1", [version, iv, tag, flipped].join(":"))).toBeNull();
    expect(openTotpSecret(key, "u1", "JBSWY3DPEHPK3PXP")).toBeNull();
  });

  it("do not open in another user's row: sign-in is refused with the usual error, and the owner's still works", async () => {
    const owner = await enrolled();
    const other = await enrolled();
    const moved = await storedSecret(owner.user.id);
    await server.mailward.services.db
      .updateTable("users")
      .set({ totp_secret: moved })
      .where("id", "=", other.user.id)
      .execute();

    // The owner's code, for the account the row was copied to: as if it were a wrong code.
    const refused = await new ApiClient(server.baseUrl).login(
      other.user.email,
      PASSWORD,
      codeAt(owner.secret, clock),
    );
    expect([refused.status, refused.json.error]).toEqual([401, "invalid_mfa_code"]);
    const asBefore = await new ApiClient(server.baseUrl).login(
      other.user.email,
      PASSWORD,
      codeAt(other.secret, clock),
    );
    expect([asBefore.status, asBefore.json.error]).toEqual([401, "invalid_mfa_code"]);
    const failures = await server.mailward.services.db
      .selectFrom("users")
      .select("failed_logins")
      .where("id", "=", other.user.id)
      .executeTakeFirstOrThrow();
    expect(failures.failed_logins).toBe(2);

    expect(
      (await new ApiClient(server.baseUrl).login(owner.user.email, PASSWORD, codeAt(owner.secret, clock)))
        .status,
    ).toBe(200);
  });
});
