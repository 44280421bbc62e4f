import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTlsGateway, type TlsGateway } from "./tls-gateway";
import { buildUser, tenantOfDomain } from "../../../factories";
import { rawSession, startTls } from "./helpers";

// A session's state over real SMTP: what STARTTLS (RFC 3207 §4.2) and AUTH (RFC 4954 §4) must not carry across.
let gateway: TlsGateway;
const PASSWORD = "a long enough password 1";
const plain = (user: string) => `AUTH PLAIN ${Buffer.from(`\0${user}\0${PASSWORD}`).toString("base64")}`;

beforeAll(async () => {
  // AUTH in clear is allowed, so a client can sign in before STARTTLS.
  gateway = await startTlsGateway({ MAILWARD_SMTP_ALLOW_INSECURE_AUTH: "true" });
  const db = gateway.server.mailward.services.db;
  const tenantId = await tenantOfDomain(db);
  await buildUser(db, { tenantId, email: "agent@example.com", password: PASSWORD });
});

afterAll(async () => {
  await gateway?.stop();
});

describe("STARTTLS", () => {
  it("forgets a sign-in made before it: relaying then needs AUTH again, inside TLS", async () => {
    const session = await rawSession(gateway.server.smtpPort);
    try {
      expect(await session.say("EHLO client.test")).toMatch(/^250/);
      expect(await session.say(plain("agent@example.com"))).toMatch(/^235/);
      const secure = await startTls(session);
      try {
        expect(await secure.say("EHLO client.test")).toMatch(/AUTH PLAIN/);
        expect(await secure.say("MAIL FROM:<agent@example.com>")).toMatch(/^250/);
        expect(await secure.say("RCPT TO:<someone@elsewhere.test>")).toMatch(
          /^554 5\.7\.1 .*Relay access denied/,
        );
        expect(await secure.say("RSET")).toMatch(/^250/);
        expect(await secure.say(plain("agent@example.com"))).toMatch(/^235/);
        expect(await secure.say("MAIL FROM:<agent@example.com>")).toMatch(/^250/);
        expect(await secure.say("RCPT TO:<someone@elsewhere.test>")).toMatch(/^250/);
      } finally {
        secure.socket.destroy();
      }
    } finally {
      session.socket.destroy();
    }
  });
});

describe("AUTH", () => {
  it("is refused (503) inside a mail transaction, so a sign-in cannot adopt a sender named before it", async () => {
    const session = await rawSession(gateway.server.smtpPort);
    try {
      expect(await session.say("EHLO client.test")).toMatch(/^250/);
      // Anyone on the Internet may name this sender; a signed-in agent may not (553).
      expect(await session.say("MAIL FROM:<ceo@example.com>")).toMatch(/^250/);
      expect(await session.say(plain("agent@example.com"))).toMatch(/^503 5\.5\.1 /);
      expect(await session.say("RCPT TO:<someone@elsewhere.test>")).toMatch(/^554 5\.7\.1 /);
      // After the transaction, the same sign-in works, and its sender is checked.
      expect(await session.say("RSET")).toMatch(/^250/);
      expect(await session.say(plain("agent@example.com"))).toMatch(/^235/);
      expect(await session.say("MAIL FROM:<ceo@example.com>")).toMatch(/^553 /);
    } finally {
      session.socket.destroy();
    }
  });
});
