import type { Readable } from "node:stream";
import type { SMTPServerSession } from "smtp-server";
import type { Services } from "../../context";
import type { AuthenticatedSender } from "../pipeline/index";
import { addressWithAsciiDomain } from "../scan/domains";
import { hasLoneCrInHeader } from "../scan/parse";
import type { IngestHandler, SmtpEnvelope } from "./listener";
import { errMessage, hasResponseCode, smtpError, TEMPORARY } from "./replies";

/** What the DATA stage needs from the listener: the ingest pipeline and the session's sign-in and charges. */
export interface DataStage {
  services: Pick<Services, "logger" | "metrics">;
  maxSize: number;
  ingest: IngestHandler;
  /** The sender the session signed in as (null: not signed in). */
  senderOf(sessionId: string): AuthenticatedSender | null;
  /** The transaction ended for good (accepted or refused for good): its recipients stay charged. */
  settleCharges(sessionId: string): void;
  /** DATA got a 4xx from us: the client retries, so the recipients it was charged for go back. */
  refundCharges(sessionId: string): void;
}

/** The client went away before the final dot: a normal network event, not a failure of ours. */
class ClientLeft extends Error {}

function readAll(stream: Readable): Promise<{ raw: Buffer; tooBig: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => {
      // smtp-server keeps counting past the SIZE limit; stop buffering then (the reply is 552 anyway).
      if (!(stream as { sizeExceeded?: boolean }).sizeExceeded) chunks.push(chunk);
    });
    stream.on("end", () =>
      resolve({
        raw: Buffer.concat(chunks),
        tooBig: (stream as { sizeExceeded?: boolean }).sizeExceeded === true,
      }),
    );
    // smtp-server destroys the stream with this when the connection closes mid-DATA (ECONNECTION).
    stream.on("error", (err: Error & { code?: string }) =>
      reject(err.code === "ECONNECTION" ? new ClientLeft(err.message) : err),
    );
  });
}

/** The envelope the pipeline gets for a session's transaction. */
function envelopeOf(session: SMTPServerSession, sender: AuthenticatedSender | null): SmtpEnvelope {
  return {
    // smtp-server decodes punycode domains; the pipeline, DNS and the next hop take them encoded.
    mailFrom: session.envelope.mailFrom ? addressWithAsciiDomain(session.envelope.mailFrom.address) : "",
    rcptTo: session.envelope.rcptTo.map((r) => addressWithAsciiDomain(r.address)),
    clientIp: session.remoteAddress,
    helo: session.hostNameAppearsAs ?? "",
    tls: session.secure,
    authenticatedUser: sender,
  };
}

/**
 * smtp-server's onData: reads the whole message (552 past SIZE), hands it to the ingest pipeline, and answers 250
 * only after the pipeline resolved (it commits first). A failure that is not an SMTP answer becomes 451 4.3.0.
 */
export function receiveData(
  stage: DataStage,
  stream: Readable,
  session: SMTPServerSession,
  callback: (err?: Error | null, message?: string) => void,
): void {
  const { logger, metrics } = stage.services;
  readAll(stream)
    .then(async ({ raw, tooBig }) => {
      if (tooBig) throw smtpError(552, `5.3.4 Message exceeds the ${stage.maxSize} byte limit`);
      if (hasLoneCrInHeader(raw))
        throw smtpError(554, "5.6.0 Message header has a CR not followed by LF (RFC 5322 2.3), not accepted");
      const outcome = await stage.ingest(raw, envelopeOf(session, stage.senderOf(session.id)));
      if (!outcome.accepted) throw smtpError(outcome.code, outcome.message);
      metrics.smtpSessions.inc({ outcome: "accepted" });
      stage.settleCharges(session.id);
      callback(null, `2.0.0 Ok: queued as ${outcome.id}`);
    })
    .catch((err: unknown) => {
      if (err instanceof ClientLeft) {
        // Nothing was handed to the pipeline, so nothing is stored; nobody is left to answer. The client retries.
        metrics.smtpSessions.inc({ outcome: "abandoned" });
        stage.refundCharges(session.id);
        logger.info({ ip: session.remoteAddress, sessionId: session.id }, "smtp client left during DATA");
        return callback(TEMPORARY());
      }
      const code = hasResponseCode(err) ? err.responseCode : 451;
      metrics.smtpSessions.inc({ outcome: code >= 500 ? "rejected" : "deferred" });
      if (code < 500) stage.refundCharges(session.id);
      else stage.settleCharges(session.id);
      if (!hasResponseCode(err)) logger.error({ err: errMessage(err) }, "smtp ingest failed");
      callback(hasResponseCode(err) ? err : TEMPORARY());
    });
}
