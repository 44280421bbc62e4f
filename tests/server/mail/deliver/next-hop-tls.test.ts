import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../../server/config";
import { NextHopConnection } from "../../../../server/mail/deliver/relay";
import { nextHopTlsOf, type NextHopTls } from "../../../../server/mail/deliver/next-hop";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { selfSignedCertificate, signedCertificate } from "../../../support/certificates";
import { startTestServer } from "../../../support/server";
import { buildUser, tenantOfDomain } from "../../../factories";
import { archivedByMessageId, rawMessage, smtpSend, standardDns } from "../gateway/helpers";

// The hop from the gateway to Microsoft 365 crosses the Internet: MAILWARD_NEXT_HOP_TLS decides what protects it.
let dir: string;
let ca: Buffer;
let key: Buffer;
let cert: Buffer;
let wrongHostKey: Buffer;
let wrongHostCert: Buffer;
let tlsSink: SmtpSink;
let plainSink: SmtpSink;

/** A CA, a certificate it signs for 127.0.0.1, and one it signs for another host. */
function makeCertificates(): void {
  const authority = selfSignedCertificate(dir, "ca", "Mailward test CA");
  const hop = signedCertificate(dir, "hop", "IP:127.0.0.1", authority);
  const other = signedCertificate(dir, "other", "DNS:other.example", authority);
  ca = fs.readFileSync(authority.certFile);
  key = fs.readFileSync(hop.keyFile);
  cert = fs.readFileSync(hop.certFile);
  wrongHostKey = fs.readFileSync(other.keyFile);
  wrongHostCert = fs.readFileSync(other.certFile);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mw-hop-tls-"));
  makeCertificates();
  tlsSink = await startSmtpSink(0, { tls: { key, cert } });
  plainSink = await startSmtpSink();
});

afterAll(async () => {
  await tlsSink?.close();
  await plainSink?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function relay(sink: SmtpSink, tls: NextHopTls) {
  const connection = new NextHopConnection({ host: "127.0.0.1", port: sink.port }, "mx.test", 10_000, tls);
  const message = rawMessage({ from: "a@nice.test", to: "b@example.com" });
  try {
    const result = await connection.send(
      { from: "a@nice.test", to: "b@example.com" },
      message.raw,
      async () => true,
    );
    return { result, delivered: sink.withMessageId(message.messageId) };
  } finally {
    connection.close();
  }
}

describe("TLS to the next hop", () => {
  it("opportunistic: uses STARTTLS when offered, and sends in clear when not", async () => {
    const secured = await relay(tlsSink, { mode: "opportunistic" });
    expect(secured.result.kind).toBe("delivered");
    expect(secured.delivered.map((m) => m.tls)).toEqual([true]);
    const clear = await relay(plainSink, { mode: "opportunistic" });
    expect(clear.result.kind).toBe("delivered");
    expect(clear.delivered.map((m) => m.tls)).toEqual([false]);
  });

  it("required: never sends in clear; a next hop without STARTTLS gets nothing and the delivery waits to retry", async () => {
    const refused = await relay(plainSink, { mode: "required" });
    expect(refused.result).toMatchObject({ kind: "temporary", handedOff: false, ambiguous: false });
    expect(refused.delivered).toHaveLength(0);
    const secured = await relay(tlsSink, { mode: "required" });
    expect(secured.result.kind).toBe("delivered");
    expect(secured.delivered.map((m) => m.tls)).toEqual([true]);
  });

  it("verified: delivers to a certificate from the configured CA, and to nothing it cannot verify", async () => {
    const trusted = await relay(tlsSink, { mode: "verified", ca });
    expect(trusted.result.kind).toBe("delivered");
    expect(trusted.delivered.map((m) => m.tls)).toEqual([true]);

    const unknownCa = await relay(tlsSink, { mode: "verified" });
    expect(unknownCa.result).toMatchObject({ kind: "temporary", handedOff: false });
    expect(unknownCa.delivered).toHaveLength(0);

    const impostor = await startSmtpSink(0, {
      tls: { key: wrongHostKey, cert: wrongHostCert },
    });
    try {
      const wrongHost = await relay(impostor, { mode: "verified", ca });
      expect(wrongHost.result).toMatchObject({ kind: "temporary", handedOff: false });
      expect(impostor.messages).toHaveLength(0);
    } finally {
      await impostor.close();
    }
    expect((await relay(plainSink, { mode: "verified", ca })).delivered).toHaveLength(0);
  });

  it("holds the gateway's deliveries back from a next hop without TLS when the settings require it", async () => {
    const server = await startTestServer(
      { MAILWARD_NEXT_HOP: plainSink.address, MAILWARD_NEXT_HOP_TLS: "required" },
      { dnsResolver: standardDns(), delivery: { retryBaseSeconds: 60, idlePollMs: 100 } },
    );
    try {
      const db = server.mailward.services.db;
      await buildUser(db, { tenantId: await tenantOfDomain(db), email: "tess@example.com" });
      const message = rawMessage({ from: "friend@nice.test", to: "tess@example.com" });
      const reply = await smtpSend(
        server.smtpPort,
        { from: "friend@nice.test", to: ["tess@example.com"] },
        message.raw,
      );
      expect(reply).toMatchObject({ ok: true, code: 250 });
      const deferred = async () =>
        (await archivedByMessageId(db, message.messageId))?.deliveries.find((d) => d.state === "deferred");
      const deadline = Date.now() + 15_000;
      while (!(await deferred()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect((await deferred())?.last_error).toMatch(/^next hop unreachable with TLS required: /);
      expect(plainSink.withMessageId(message.messageId)).toHaveLength(0);
    } finally {
      await server.stop();
    }
  });

  it("reads the policy and the CA (PEM or file) from the settings, opportunistic by default", () => {
    expect(nextHopTlsOf(loadConfig({}))).toEqual({ mode: "opportunistic" });
    const fromFile = nextHopTlsOf(
      loadConfig({ MAILWARD_NEXT_HOP_TLS: "verified", MAILWARD_NEXT_HOP_CA: path.join(dir, "ca.pem") }),
    );
    expect(fromFile.mode).toBe("verified");
    expect(fromFile.ca?.equals(ca)).toBe(true);
    expect(nextHopTlsOf(loadConfig({ MAILWARD_NEXT_HOP_CA: ca.toString() })).ca?.equals(ca)).toBe(true);
    expect(() => loadConfig({ MAILWARD_NEXT_HOP_TLS: "sometimes" })).toThrow(/MAILWARD_NEXT_HOP_TLS/);
  });
});
