import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildUser, tenantOfDomain } from "../../../factories";
import { ApiClient } from "../../../support/http";
import type { SinkMessage } from "../../../support/smtp-sink";
import { rawSession, startTls } from "./helpers";
import { startTlsGateway, type TlsGateway } from "./tls-gateway";

// A session signed in with the account password ends once that password is reset, as one with a revoked SMTP
// password does: whoever reset it may be shutting out someone who stole it.
let gateway: TlsGateway;
let tenantId: string;
const PASSWORD = "a long enough password 1";
const NEW_PASSWORD = "another fine passphrase 2";

beforeAll(async () => {
  gateway = await startTlsGateway({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  tenantId = await tenantOfDomain(gateway.server.mailward.services.db);
});

afterAll(async () => {
  await gateway?.stop();
});

/** Resets the person's password through the API, with the link the reset mail (delivered to the sink) carries. */
async function resetPassword(email: string): Promise<void> {
  const api = new ApiClient(gateway.server.baseUrl);
  expect((await api.request("POST", "/api/auth/password-reset", { email })).status).toBeLessThan(300);
  const isReset = (m: SinkMessage) => m.rcptTo.includes(email) && /token=/.test(m.raw.toString("latin1"));
  await gateway.sink.waitFor((all) => all.some(isReset));
  const mail = gateway.sink.messages.find(isReset);
  const text = (await simpleParser(mail?.raw ?? Buffer.alloc(0))).text ?? "";
  const token = /#token=([A-Za-z0-9_-]+)/.exec(text)?.[1] ?? "";
  const confirmed = await api.request("POST", "/api/auth/password-reset/confirm", {
    token,
    password: NEW_PASSWORD,
  });
  expect(confirmed.status).toBe(200);
}

/** Opens a TLS session signed in with the account password, one transaction tried and reset. */
async function signedInSession(email: string) {
  const session = await rawSession(gateway.server.smtpPort);
  const secure = await startTls(session);
  expect(await secure.say("EHLO client.test")).toMatch(/^250/);
  const plain = Buffer.from(`\0${email}\0${PASSWORD}`).toString("base64");
  expect(await secure.say(`AUTH PLAIN ${plain}`)).toMatch(/^235/);
  expect(await secure.say(`MAIL FROM:<${email}>`)).toMatch(/^250/);
  expect(await secure.say("RSET")).toMatch(/^250/);
  return { session, secure };
}

describe("SMTP sessions signed in with the account password", () => {
  it("end at the next MAIL FROM with 421 once the password is reset", async () => {
    const user = await buildUser(gateway.server.mailward.services.db, {
      tenantId,
      email: "reset-me@example.com",
      password: PASSWORD,
    });
    const { session, secure } = await signedInSession(user.email);
    try {
      await resetPassword(user.email);
      const closed = new Promise<void>((resolve) => secure.socket.once("close", () => resolve()));
      expect(await secure.say(`MAIL FROM:<${user.email}>`)).toMatch(/^421 4\.7\.0 /);
      await closed;
    } finally {
      session.socket.destroy();
    }
  });

  it("go on while the password stays as it was", async () => {
    const user = await buildUser(gateway.server.mailward.services.db, {
      tenantId,
      email: "keep-me@example.com",
      password: PASSWORD,
    });
    const { session, secure } = await signedInSession(user.email);
    try {
      expect(await secure.say(`MAIL FROM:<${user.email}>`)).toMatch(/^250/);
    } finally {
      session.socket.destroy();
    }
  });
});
