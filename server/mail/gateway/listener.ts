import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from "smtp-server";
import type { Readable } from "node:stream";
import type { Services } from "../../context";

/** The SMTP envelope of one transaction. */
export interface SmtpEnvelope {
  mailFrom: string;
  rcptTo: string[];
  clientIp: string;
  helo: string;
  authenticatedUser: string | null;
}

/** What the ingest pipeline answers: accept (after commit), or an SMTP error to send. */
export type IngestOutcome = { accepted: true; id: string } | { accepted: false; code: number; message: string };

/** The pipeline a complete message is handed to; it must commit before resolving `accepted`. */
export type IngestHandler = (raw: Buffer, envelope: SmtpEnvelope) => Promise<IngestOutcome>;

/** Gateway hooks: the ingest pipeline and per-stage checks (recipients, auth); see server/mail/gateway. */
export interface GatewayHooks {
  ingest: IngestHandler;
  onRcptTo?: (address: string, session: SMTPServerSession) => Promise<void>;
  serverOptions?: Partial<SMTPServerOptions>;
}

/** A running SMTP listener. */
export interface RunningGateway {
  port: number;
  isListening(): boolean;
  close(): Promise<void>;
}

/** An error with an SMTP reply code, as smtp-server expects. */
export function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

function readAll(stream: Readable, limit: number): Promise<{ raw: Buffer; tooBig: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    stream.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooBig = true;
      else chunks.push(chunk);
    });
    stream.on("end", () => resolve({ raw: Buffer.concat(chunks), tooBig: tooBig || (stream as { sizeExceeded?: boolean }).sizeExceeded === true }));
    stream.on("error", reject);
  });
}

/**
 * Starts the SMTP listener. The reply to DATA is sent only after the ingest
 * handler resolves, and the handler commits first: a 250 is never premature.
 */
export async function startSmtpGateway(services: Services, hooks: GatewayHooks, port: number, host: string): Promise<RunningGateway> {
  const maxSize = services.config.MAILWARD_SMTP_MAX_SIZE;
  let listening = false;
  const server = new SMTPServer({
    name: new URL(services.config.MAILWARD_PUBLIC_URL).hostname,
    banner: "Mailward ESMTP",
    size: maxSize,
    authOptional: true,
    disabledCommands: ["AUTH"],
    logger: false,
    ...hooks.serverOptions,
    onRcptTo(address, session, callback) {
      if (!hooks.onRcptTo) return callback();
      hooks.onRcptTo(address.address, session).then(() => callback(), (err: Error) => callback(err));
    },
    onData(stream, session, callback) {
      readAll(stream, maxSize)
        .then(async ({ raw, tooBig }) => {
          if (tooBig) throw smtpError(552, `5.3.4 Message exceeds the ${maxSize} byte limit`);
          const envelope: SmtpEnvelope = {
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
            clientIp: session.remoteAddress,
            helo: session.hostNameAppearsAs ?? "",
            authenticatedUser: typeof session.user === "string" ? session.user : null,
          };
          const outcome = await hooks.ingest(raw, envelope);
          if (!outcome.accepted) throw smtpError(outcome.code, outcome.message);
          services.metrics.smtpSessions.inc({ outcome: "accepted" });
          callback(null, `2.0.0 Ok: queued as ${outcome.id}`);
        })
        .catch((err: Error & { responseCode?: number }) => {
          const code = err.responseCode ?? 451;
          services.metrics.smtpSessions.inc({ outcome: code >= 500 ? "rejected" : "deferred" });
          if (!err.responseCode) services.logger.error({ err: { message: err.message } }, "smtp ingest failed");
          callback(err.responseCode ? err : smtpError(451, "4.3.0 Temporary failure, try again later"));
        });
    },
  });
  server.on("error", (err) => services.logger.warn({ err: { message: err.message } }, "smtp server error"));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  listening = true;
  const address = server.server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    isListening: () => listening,
    close: () =>
      new Promise<void>((resolve) => {
        listening = false;
        server.close(() => resolve());
      }),
  };
}
