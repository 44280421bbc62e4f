import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { authenticate, type DNSResolver } from "mailauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../../server/config";
import { arcSealerOf, sealRelayed, type ArcSealer } from "../../../../server/mail/deliver/arc-seal";
import type { MessageTrace } from "../../../../server/mail/deliver/trace";
import { startTestServer, type TestServer } from "../../../support/server";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { buildUser, tenantOfDomain } from "../../../factories";
import { dkimKey } from "../scan/support/fake-dns";
import { fakeDns, rawMessage, smtpSend } from "../gateway/helpers";

// ARC (RFC 8617): the gateway seals what it relays, so the mailbox behind it can take its results on trust.
const key = dkimKey();
const ARC = {
  MAILWARD_ARC_DOMAIN: "gw.example",
  MAILWARD_ARC_SELECTOR: "arc1",
  MAILWARD_ARC_KEY: key.privateKey,
};
const dns = fakeDns({
  "nice.test": ["v=spf1 ip4:127.0.0.1 -all"],
  "arc1._domainkey.gw.example": [key.record],
});
let server: TestServer;
let sink: SmtpSink;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mw-arc-"));
  sink = await startSmtpSink();
  server = await startTestServer(
    { MAILWARD_NEXT_HOP: sink.address, ...ARC },
    { dnsResolver: dns, delivery: { retryBaseSeconds: 0.2, idlePollMs: 200 } },
  );
  const db = server.mailward.services.db;
  await buildUser(db, { tenantId: await tenantOfDomain(db), email: "ana@example.com" });
});

afterAll(async () => {
  await server?.stop();
  await sink?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The trace of a message that came in from 127.0.0.1, with the ARC state the gateway found. */
function traceWith(arc: MessageTrace["arc"]): MessageTrace {
  return {
    helo: "h",
    clientIp: "127.0.0.1",
    tls: false,
    authenticated: false,
    receivedAt: new Date().toISOString(),
    authenticationHeaders: "",
    arc,
  };
}

describe("ARC sealing of relayed mail", () => {
  it("seals the relayed copy so that a receiver validates the chain and reads our results from it", async () => {
    const message = rawMessage({ from: "Friend <friend@nice.test>", to: "ana@example.com" });
    expect(
      await smtpSend(server.smtpPort, { from: "friend@nice.test", to: ["ana@example.com"] }, message.raw),
    ).toMatchObject({ ok: true, code: 250 });
    await sink.waitFor(() => sink.withMessageId(message.messageId).length === 1);
    const relayed = sink.withMessageId(message.messageId)[0]?.raw ?? Buffer.alloc(0);
    expect(relayed.toString("latin1")).toMatch(/^ARC-Seal: i=1; /);
    expect(relayed.subarray(relayed.length - message.raw.length).equals(message.raw)).toBe(true);

    // The mailbox behind us (Microsoft 365) receives it from our IP and checks the ARC set against our key.
    const received = await authenticate(relayed, {
      ip: "127.0.0.1",
      helo: "localhost",
      sender: "friend@nice.test",
      mta: "mx.receiver.test",
      resolver: dns as DNSResolver,
    });
    expect(received.arc && received.arc.status.result).toBe("pass");
    const aar = relayed
      .toString("latin1")
      .match(/^ARC-Authentication-Results: i=1; localhost;[^]*?(?=\r\n\S)/m)?.[0];
    expect(aar).toMatch(/spf=pass/);
  });

  it("passes a broken incoming chain on unsealed, for the receiver to judge", async () => {
    const sealer = arcSealerOf(loadConfig(ARC));
    const trace = traceWith({ authResults: "localhost; arc=fail", chain: "fail" });
    const message = Buffer.from("Subject: x\r\n\r\nhello\r\n");
    expect((await sealRelayed(message, trace, sealer as ArcSealer, new Date())).equals(message)).toBe(true);
    const sealed = await sealRelayed(
      message,
      { ...trace, arc: { authResults: "localhost; spf=pass", chain: "none" } },
      sealer as ArcSealer,
      new Date(),
    );
    expect(sealed.toString()).toMatch(/^ARC-Seal: i=1; a=rsa-sha256; .*cv=none/s);
    expect(sealed.subarray(sealed.length - message.length).equals(message)).toBe(true);
  });

  it("signs at the time it is given, so the message signature's t= is the one it signed (mailauth read the clock twice)", async () => {
    const sealer = arcSealerOf(loadConfig(ARC)) as ArcSealer;
    const message = rawMessage({ from: "Friend <friend@nice.test>", to: "ana@example.com" }).raw;
    const trace = traceWith({ authResults: "localhost; spf=pass smtp.mailfrom=nice.test", chain: "none" });
    // An hour ago: a time the clock cannot give while it signs, so only the time handed over can be in the fields.
    const then = new Date(Date.now() - 3_600_000);
    const sealed = await sealRelayed(message, trace, sealer, then);
    const signedAt = Math.floor(then.getTime() / 1000);
    const messageSignature =
      sealed.toString("latin1").match(/^ARC-Message-Signature:[^]*?(?=\r\n\S)/m)?.[0] ?? "";
    expect(messageSignature.replace(/\r\n\s+/g, " ")).toMatch(new RegExp(`\\bt=${signedAt};`));
    const received = await authenticate(sealed, {
      ip: "127.0.0.1",
      helo: "localhost",
      sender: "friend@nice.test",
      mta: "mx.receiver.test",
      resolver: dns as DNSResolver,
    });
    expect(received.arc && received.arc.status.result).toBe("pass");
  });

  it("reads the sealer from the settings: all three or none, and a key that is one (PEM or file)", () => {
    expect(arcSealerOf(loadConfig({}))).toBeNull();
    const keyFile = path.join(dir, "arc.pem");
    fs.writeFileSync(keyFile, key.privateKey);
    expect(arcSealerOf(loadConfig({ ...ARC, MAILWARD_ARC_KEY: keyFile }))).toMatchObject({
      signingDomain: "gw.example",
      selector: "arc1",
    });
    expect(() => arcSealerOf(loadConfig({ MAILWARD_ARC_DOMAIN: "gw.example" }))).toThrow(/together/);
    expect(() => arcSealerOf(loadConfig({ ...ARC, MAILWARD_ARC_KEY: "-----BEGIN nonsense" }))).toThrow(
      /not a private key/,
    );
  });
});
