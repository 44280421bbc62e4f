import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTenant, buildUser } from "../../../factories";
import { canonicalAddress } from "../../../../server/mail/scan/domains";
import { startTlsGateway, type TlsGateway } from "./tls-gateway";
import { archivedByMessageId, rawMessage, smtpSend, waitForQueueIdle } from "./helpers";

// Internationalised domains (IDNA) over real SMTP. Tenant domains and addresses are stored in punycode, but
// smtp-server decodes every envelope domain to Unicode (and mailparser every From domain), so the punycode form a
// plain sender writes reaches Mailward as `bücher.example` too: each comparison has to take both spellings.
const BOOKS = "xn--bcher-kva.example";
const CAFE = "xn--caf-dma.example";
const PASSWORD = "a long enough password 1";
let gateway: TlsGateway;
let anna: { id: string; email: string };

beforeAll(async () => {
  // SPF of the café: the gateway's test client is 127.0.0.1.
  gateway = await startTlsGateway({}, { [CAFE]: ["v=spf1 ip4:127.0.0.1 -all"] });
  const db = gateway.server.mailward.services.db;
  const books = await buildTenant(db, { domains: [BOOKS] });
  anna = await buildUser(db, { tenantId: books.id, email: `anna@${BOOKS}`, password: PASSWORD });
});

afterAll(async () => {
  await gateway?.stop();
});

describe("recipients at an internationalised tenant domain", () => {
  it.each([
    ["in punycode, as a sender without SMTPUTF8 writes it", `Anna@${BOOKS}`],
    ["in Unicode (SMTPUTF8)", "Anna@Bücher.example"],
  ])("files mail to anna %s for her and relays it once, under the ASCII name", async (_, to) => {
    const { server, sink } = gateway;
    const message = rawMessage({ from: "shop@nice.test", to: anna.email, subject: `To ${to}` });
    const reply = await smtpSend(server.smtpPort, { from: "shop@nice.test", to: [to] }, message.raw);
    expect(reply).toMatchObject({ ok: true, code: 250 });
    await waitForQueueIdle(server.mailward.services.db);
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.links.map((l) => l.user_id)).toEqual([anna.id]);
    expect(archived?.deliveries.map((d) => [d.recipient, d.state])).toEqual([[anna.email, "delivered"]]);
    // The sink, an smtp-server too, shows the address decoded.
    expect(sink.withMessageId(message.messageId).map((m) => m.rcptTo)).toEqual([["anna@bücher.example"]]);
  });

  it("refuses nobody at that domain with 550 5.1.1, not as a relay attempt (554)", async () => {
    const reply = await smtpSend(
      gateway.server.smtpPort,
      { from: "shop@nice.test", to: [`nobody@${BOOKS}`] },
      rawMessage({ from: "shop@nice.test", to: `nobody@${BOOKS}` }).raw,
    );
    expect(reply).toMatchObject({ ok: false, code: 550 });
    expect(reply.response).toMatch(/5\.1\.1/);
  });
});

describe("senders at an internationalised domain", () => {
  it("checks SPF under the punycode name and relays with the envelope sender in ASCII", async () => {
    const { server } = gateway;
    const from = `shop@${CAFE}`;
    const message = rawMessage({ from, to: anna.email, subject: "Your table" });
    expect(await smtpSend(server.smtpPort, { from, to: [anna.email] }, message.raw)).toMatchObject({
      code: 250,
    });
    await waitForQueueIdle(server.mailward.services.db);
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.message.assessment).toMatchObject({ auth: { spf: "pass" } });
    // A Unicode MAIL FROM would need SMTPUTF8 at the next hop, which the sender never asked for.
    expect(archived?.deliveries.map((d) => d.mail_from)).toEqual([from]);
  });

  it("lets a signed-in user of that domain send as herself, in the envelope and in From", async () => {
    const { server, sink } = gateway;
    const message = rawMessage({ from: anna.email, to: "customer@elsewhere.test" });
    const reply = await smtpSend(
      server.smtpPort,
      { from: anna.email, to: ["customer@elsewhere.test"] },
      message.raw,
      { auth: { user: anna.email, pass: PASSWORD } },
    );
    expect(reply).toMatchObject({ ok: true, code: 250 });
    await sink.waitFor(() => sink.withMessageId(message.messageId).length === 1);
    const archived = await archivedByMessageId(server.mailward.services.db, message.messageId);
    expect(archived?.message.direction).toBe("outbound");
    expect(archived?.links.map((l) => [l.user_id, l.folder])).toEqual([[anna.id, "sent"]]);
  });

  it("still refuses her MAIL FROM as a colleague at the same domain (553)", async () => {
    const reply = await smtpSend(
      gateway.server.smtpPort,
      { from: `ceo@${BOOKS}`, to: ["customer@elsewhere.test"] },
      rawMessage({ from: `ceo@${BOOKS}`, to: "customer@elsewhere.test" }).raw,
      { auth: { user: anna.email, pass: PASSWORD } },
    );
    expect(reply).toMatchObject({ ok: false, code: 553 });
  });
});

describe("canonicalAddress", () => {
  it("lower-cases and spells the domain in punycode, and leaves what is no host name as it was", () => {
    expect(canonicalAddress("Anna@Bücher.Example")).toBe(`anna@${BOOKS}`);
    expect(canonicalAddress("Tina@Example.com")).toBe("tina@example.com");
    expect(canonicalAddress("postmaster")).toBe("postmaster");
    expect(canonicalAddress("ops@[192.0.2.1]")).toBe("ops@[192.0.2.1]");
  });
});
