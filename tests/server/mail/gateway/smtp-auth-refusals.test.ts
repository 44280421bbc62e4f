import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTlsGateway, type TlsGateway } from "./tls-gateway";
import { rawMessage, rawSession, smtpSend, type SmtpReply } from "./helpers";
import { ApiClient } from "../../../support/http";
import { capturingLogger } from "../../../support/logger";
import { buildUser, tenantOfDomain } from "../../../factories";
import { EVEN_ANSWER_MS } from "../../../../server/auth/even-answer";
import { addressLockoutKey } from "../../../../server/commands/auth/address-lockout";

/**
 * SMTP AUTH must not tell who has an account: over real SMTP, every refusal (a wrong password, an unknown address, an
 * account with TOTP, a disabled one, an alias, an address on a domain not yet verified, an account that signs in with
 * Microsoft) gets the same reply, no sooner than the even-answer floor, and counts toward the same lockout a web
 * sign-in with that address then meets; only the server's log says what the reason was.
 */
let gateway: TlsGateway;
const log = capturingLogger("info");
const PASSWORD = "a long enough password 1";
/** Low, so each address locks in a couple of (evened, so slow) attempts. */
const THRESHOLD = 2;
/** Timers may fire a millisecond or so early against performance.now(). */
const SLACK_MS = 5;
/** The one reply every refusal gets. */
const REFUSED = "535 5.7.8 Authentication credentials invalid";

/** One kind of address a guesser may try, the password tried, and the reason the log should give. */
interface Case {
  name: string;
  address: string;
  password: string;
  reason: string;
  /** The gateway sees each case from its own client address, so the per-IP AUTH throttle (5) never steps in. */
  client: string;
}
let cases: Case[];
/** The account the alias case's address belongs to. */
let aliasOwner: { email: string; alias: string };

beforeAll(async () => {
  gateway = await startTlsGateway(
    {
      MAILWARD_LOCKOUT_THRESHOLD: String(THRESHOLD),
      MAILWARD_LOGIN_RATE_LIMIT: "1000",
      // So that a raw session can time AUTH alone, without a TLS handshake; nodemailer still uses STARTTLS.
      MAILWARD_SMTP_ALLOW_INSECURE_AUTH: "true",
    },
    {},
    { logger: log.logger },
  );
  const db = gateway.server.mailward.services.db;
  const tenantId = await tenantOfDomain(db);
  const tag = Math.random().toString(36).slice(2, 8);
  const person = (name: string, password: string | null = PASSWORD) =>
    buildUser(db, { tenantId, email: `${name}-${tag}@example.com`, ...(password ? { password } : {}) });
  const real = await person("real");
  const twoStep = await person("two-step");
  await db
    .updateTable("users")
    .set({ totp_enabled: true, totp_secret: "v1:sealed" })
    .where("id", "=", twoStep.id)
    .execute();
  const leaver = await person("leaver");
  await db.updateTable("users").set({ disabled_at: new Date() }).where("id", "=", leaver.id).execute();
  const aliased = await person("aliased");
  const alias = `old-name-${tag}@example.com`;
  await db
    .insertInto("user_addresses")
    .values({ address: alias, tenant_id: tenantId, user_id: aliased.id })
    .execute();
  const unproved = `unproved-${tag}.test`;
  await db
    .insertInto("tenant_domains")
    .values({ tenant_id: tenantId, domain: unproved, verified_at: null, verification_token: `token-${tag}` })
    .execute();
  const desk = await buildUser(db, { tenantId, email: `desk@${unproved}`, password: PASSWORD });
  const microsoft = await person("microsoft", null);
  aliasOwner = { email: aliased.email, alias };
  cases = [
    { name: "wrong password", address: real.email, password: "wrong guess 1", reason: "wrong_password" },
    {
      name: "unknown address",
      address: `nobody-${tag}@example.com`,
      password: PASSWORD,
      reason: "unknown_address",
    },
    { name: "account with TOTP", address: twoStep.email, password: PASSWORD, reason: "totp_enabled" },
    { name: "disabled account", address: leaver.email, password: PASSWORD, reason: "account_disabled" },
    { name: "alias", address: alias, password: "wrong guess 2", reason: "wrong_password" },
    {
      name: "unverified domain",
      address: desk.email,
      password: PASSWORD,
      reason: "outside_verified_domains",
    },
    { name: "Microsoft only", address: microsoft.email, password: PASSWORD, reason: "no_account_password" },
  ].map((c, i) => ({ ...c, client: `127.0.0.${40 + i}` }));
});

afterAll(async () => {
  await gateway?.stop();
});

/** One SMTP AUTH (then a message, were it accepted) over real SMTP with STARTTLS (nodemailer): the reply. */
function smtpAuth(c: Case): Promise<SmtpReply> {
  return smtpSend(
    gateway.server.smtpPort,
    { from: c.address, to: ["customer@elsewhere.test"] },
    rawMessage({ from: c.address, to: "customer@elsewhere.test" }).raw,
    { auth: { user: c.address, pass: c.password }, localAddress: c.client },
  );
}

/** One AUTH PLAIN over a raw SMTP session: its reply line and how long the AUTH command alone took. */
async function timedAuth(c: Case): Promise<{ reply: string; ms: number }> {
  const session = await rawSession(gateway.server.smtpPort, c.client);
  try {
    await session.say("EHLO client.test");
    const plain = Buffer.from(`\0${c.address}\0${c.password}`).toString("base64");
    const started = performance.now();
    const reply = await session.say(`AUTH PLAIN ${plain}`);
    return { reply: reply.trim(), ms: performance.now() - started };
  } finally {
    session.socket.end();
  }
}

/** The refusals the server logged, by address key, in order. */
function loggedRefusals(): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const line of log.lines.join("").split("\n").filter(Boolean)) {
    const entry = JSON.parse(line) as { msg?: string; refusal?: string; addressKey?: string };
    if (entry.msg !== "smtp auth refused" || !entry.addressKey || !entry.refusal) continue;
    byKey.set(entry.addressKey, [...(byKey.get(entry.addressKey) ?? []), entry.refusal]);
  }
  return byKey;
}

describe("SMTP AUTH refusals", () => {
  it("answer alike whatever the reason, count toward the same lockout, and log the real reason without secrets", async () => {
    // The first refusal of each, one at a time so that the time each takes shows: the same reply, after the floor.
    for (const c of cases) {
      const { reply, ms } = await timedAuth(c);
      expect(reply, c.name).toBe(REFUSED);
      expect(ms, c.name).toBeGreaterThanOrEqual(EVEN_ANSWER_MS - SLACK_MS);
    }
    // The rest all at once, over STARTTLS: THRESHOLD refusals lock every address, and one more meets the lock.
    for (let round = 1; round <= THRESHOLD; round += 1) {
      const replies = await Promise.all(cases.map((c) => smtpAuth(c)));
      expect(replies, `round ${round}`).toEqual(
        cases.map(() => ({ ok: false, code: 535, response: REFUSED })),
      );
    }

    // Every address is now locked for a web sign-in too, as an unknown address is.
    const web = await Promise.all(
      cases.map(async (c) => {
        const res = await new ApiClient(gateway.server.baseUrl).login(c.address, "another wrong guess");
        return { status: res.status, error: res.json.error, message: res.json.message };
      }),
    );
    expect(web[0]).toMatchObject({ status: 423, error: "account_locked" });
    expect(Object.fromEntries(cases.map((c, i) => [c.name, web[i]]))).toEqual(
      Object.fromEntries(cases.map((c) => [c.name, web[0]])),
    );

    // An alias's guesses were guesses at its account's password too: they locked the account as well.
    const owner = await new ApiClient(gateway.server.baseUrl).login(aliasOwner.email, PASSWORD);
    expect(owner.json.error).toBe("account_locked");

    const logged = loggedRefusals();
    for (const c of cases) {
      const expected = [...Array.from({ length: THRESHOLD }, () => c.reason), "account_locked"];
      expect(logged.get(addressLockoutKey(c.address)), c.name).toEqual(expected);
    }
    const text = log.lines.join("");
    for (const secret of [PASSWORD, "wrong guess 1", "wrong guess 2"]) expect(text).not.toContain(secret);
    // An address typed is logged only as its lockout key (a mistyped password could be in the username).
    for (const c of cases.filter((c) => c.reason === "unknown_address"))
      expect(text).not.toContain(c.address);
  });

  it("give back the attempts of an alias signing in with its account's right password: it never locks itself", async () => {
    const db = gateway.server.mailward.services.db;
    const owner = await buildUser(db, {
      tenantId: await tenantOfDomain(db),
      email: `printer-${Math.random().toString(36).slice(2, 8)}@example.com`,
      password: PASSWORD,
    });
    const alias = `scanner-${owner.id.slice(0, 8)}@example.com`;
    await db
      .insertInto("user_addresses")
      .values({ address: alias, tenant_id: owner.tenantId, user_id: owner.id })
      .execute();
    const device: Case = {
      name: "device",
      address: alias,
      password: PASSWORD,
      reason: "",
      client: "127.0.0.60",
    };
    for (let i = 0; i <= THRESHOLD; i += 1)
      expect(await smtpAuth(device)).toMatchObject({ ok: true, code: 250 });
    const web = await new ApiClient(gateway.server.baseUrl).login(alias, "a wrong guess");
    expect(web.json.error).toBe("invalid_credentials");
  });
});
