import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startTestServer, type TestServer } from "../../../support/server";
import type { StartOptions } from "../../../../server/runtime";
import { startSmtpSink, type SmtpSink } from "../../../support/smtp-sink";
import { selfSignedCertificate } from "../../../support/certificates";
import { standardDns } from "./helpers";

/** A running gateway with STARTTLS and its next hop. */
export interface TlsGateway {
  server: TestServer;
  sink: SmtpSink;
  stop(): Promise<void>;
}

/**
 * A Mailward whose gateway offers STARTTLS (a self-signed certificate for localhost, so SMTP AUTH is on)
 * and relays to a real SMTP sink, with the standard test DNS and quick delivery retries: what the
 * listener's and the SMTP passwords' tests both need. `env` adds or overrides settings, `dns` adds TXT records,
 * `options` adds start options (a capturing logger, say).
 */
export async function startTlsGateway(
  env: Record<string, string> = {},
  dns: Parameters<typeof standardDns>[0] = {},
  options: StartOptions = {},
): Promise<TlsGateway> {
  const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), "mw-tls-"));
  const tls = selfSignedCertificate(tlsDir, "gateway", "localhost");
  const sink = await startSmtpSink();
  const server = await startTestServer(
    {
      MAILWARD_NEXT_HOP: sink.address,
      MAILWARD_SMTP_TLS_KEY: tls.keyFile,
      MAILWARD_SMTP_TLS_CERT: fs.readFileSync(tls.certFile, "utf8"),
      ...env,
    },
    { dnsResolver: standardDns(dns), delivery: { retryBaseSeconds: 0.2, idlePollMs: 200 }, ...options },
  );
  return {
    server,
    sink,
    async stop() {
      await server.stop();
      await sink.close();
      fs.rmSync(tlsDir, { recursive: true, force: true });
    },
  };
}
