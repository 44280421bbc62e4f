import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerOptions,
  type SMTPServerSession,
} from "smtp-server";
import { pemSetting, type Config } from "../../config";
import type { Services } from "../../context";
import type { AuthenticatedSender } from "../pipeline/index";
import { AuthThrottle, ClientLimiter } from "./limits";
import { SenderAllowances } from "./sender-allowances";
import { gatewayHostname } from "../deliver/trace";
import { isOwnAddress } from "../pipeline/send-as";
import { addressWithAsciiDomain } from "../scan/domains";
import { receiveData } from "./data";
import { errMessage, hasResponseCode, smtpError, TEMPORARY } from "./replies";

/** The SMTP envelope of one transaction. */
export interface SmtpEnvelope {
  mailFrom: string;
  rcptTo: string[];
  clientIp: string;
  helo: string;
  /** The session ran over TLS. */
  tls: boolean;
  /** The user who signed in with SMTP AUTH (submission), or null for mail from the Internet. */
  authenticatedUser: AuthenticatedSender | null;
}

/** What the ingest pipeline answers: accept (after commit), or an SMTP error to send. */
export type IngestOutcome =
  { accepted: true; id: string } | { accepted: false; code: number; message: string };

/** The pipeline a complete message is handed to; it must commit before resolving `accepted`. */
export type IngestHandler = (raw: Buffer, envelope: SmtpEnvelope) => Promise<IngestOutcome>;

/** Gateway hooks: the ingest pipeline and per-stage checks (sender, recipients, AUTH); see server/mail/gateway/hooks.ts. */
export interface GatewayHooks {
  ingest: IngestHandler;
  /** Refuses a recipient by throwing `smtpError`; any other error becomes a 451 (try again later). */
  onRcptTo?: (
    address: string,
    sender: AuthenticatedSender | null,
    session: SMTPServerSession,
  ) => Promise<void>;
  /** Reports that a signed-in sender reached their recipients per hour (called once per run of refusals). */
  senderLimited?: (sender: AuthenticatedSender, ip: string) => Promise<void>;
  /** Whether a session's earlier sign-in still stands (not revoked, not disabled); asked at each MAIL FROM. */
  signInStands?: (sender: AuthenticatedSender) => Promise<boolean>;
  /** Checks SMTP AUTH credentials; null when they are wrong. */
  authenticate?: (username: string, password: string, ip: string) => Promise<AuthenticatedSender | null>;
  serverOptions?: Partial<SMTPServerOptions>;
}

/** A running SMTP listener. */
export interface RunningGateway {
  port: number;
  tls: boolean;
  isListening(): boolean;
  /** How many sessions it keeps a sign-in or an allowance charge for (closed ones must not stay). */
  trackedSessions(): number;
  close(): Promise<void>;
}

/** The certificate for STARTTLS: each setting is PEM text or a path to a PEM file. Null: no TLS offered. */
export function tlsFromConfig(config: Config): { key: Buffer; cert: Buffer } | null {
  if (!config.MAILWARD_SMTP_TLS_KEY || !config.MAILWARD_SMTP_TLS_CERT) return null;
  return { key: pemSetting(config.MAILWARD_SMTP_TLS_KEY), cert: pemSetting(config.MAILWARD_SMTP_TLS_CERT) };
}

/**
 * Starts the SMTP listener: STARTTLS when a certificate is configured, SIZE
 * (552 past it), per-IP connection and message-rate limits, AUTH for the
 * tenant's own users (only over TLS unless allowed otherwise), and the reply to
 * DATA sent only after the ingest handler resolved, which commits first: a 250
 * is never premature. A failure that is not an SMTP answer becomes 451 4.3.0.
 */
export async function startSmtpGateway(
  services: Services,
  hooks: GatewayHooks,
  port: number,
  host: string,
): Promise<RunningGateway> {
  const { config, logger, metrics } = services;
  const maxSize = config.MAILWARD_SMTP_MAX_SIZE;
  const tls = tlsFromConfig(config);
  const authAvailable =
    Boolean(hooks.authenticate) && (tls !== null || config.MAILWARD_SMTP_ALLOW_INSECURE_AUTH);
  const limiter = new ClientLimiter({
    maxConnectionsPerIp: config.MAILWARD_SMTP_MAX_CONNECTIONS_PER_IP,
    messagesPerMinute: config.MAILWARD_SMTP_MESSAGES_PER_MINUTE_PER_IP,
  });
  const authThrottle = new AuthThrottle();
  const senderAllowances = new SenderAllowances(
    services.db,
    config.MAILWARD_SMTP_RECIPIENTS_PER_HOUR_PER_SENDER,
  );
  const senders = new Map<string, AuthenticatedSender>();
  /** Recipients the current transaction of a session took from its signed-in sender's allowance. */
  const charged = new Map<string, number>();
  /** DATA got a 4xx from us: the client retries, so the recipients it was charged for go back (sender-allowances.ts). */
  const refundCharged = (sessionId: string) => {
    const sender = senders.get(sessionId);
    const count = charged.get(sessionId) ?? 0;
    charged.delete(sessionId);
    if (!sender || count === 0) return;
    senderAllowances.refundRecipients(sender.userId, count).catch((err: unknown) => {
      logger.warn({ err: errMessage(err) }, "allowance refund failed");
    });
  };
  /** Sessions open (counted by the limiter): a check answering after its client left must not record anything. */
  const counted = new Set<string>();
  let listening = false;
  const fail = (callback: (err?: Error | null) => void) => (err: unknown) => {
    if (hasResponseCode(err)) return callback(err);
    logger.error({ err: errMessage(err) }, "smtp check failed");
    callback(TEMPORARY());
  };

  const dataStage = {
    services,
    maxSize,
    ingest: hooks.ingest,
    senderOf: (sessionId: string) => senders.get(sessionId) ?? null,
    settleCharges: (sessionId: string) => void charged.delete(sessionId),
    refundCharges: refundCharged,
  };

  const disabled = [...(tls ? [] : ["STARTTLS"]), ...(authAvailable ? [] : ["AUTH"])];
  const server = new SMTPServer({
    name: gatewayHostname(config),
    banner: "Mailward ESMTP",
    size: maxSize,
    authOptional: true,
    authMethods: ["PLAIN", "LOGIN"],
    allowInsecureAuth: config.MAILWARD_SMTP_ALLOW_INSECURE_AUTH,
    disabledCommands: disabled,
    hideSTARTTLS: tls === null,
    ...(tls ? { key: tls.key, cert: tls.cert } : {}),
    maxClients: config.MAILWARD_SMTP_MAX_CLIENTS,
    closeTimeout: 5_000,
    socketTimeout: config.MAILWARD_SMTP_IDLE_TIMEOUT_SECONDS * 1000,
    // The client's PTR name is not used for any decision; skipping it keeps DNS out of the connection path.
    disableReverseLookup: true,
    logger: false,
    ...hooks.serverOptions,
    onConnect(session, callback) {
      if (!limiter.openConnection(session.remoteAddress)) {
        metrics.smtpSessions.inc({ outcome: "refused_connection" });
        return callback(smtpError(421, "4.7.0 Too many connections from your address, try again later"));
      }
      counted.add(session.id);
      callback();
    },
    // RFC 3207 §4.2: nothing the client said before STARTTLS counts after it. smtp-server forgets the AUTH
    // (session.user); the sign-in kept here must go with it, or the TLS session would relay on a plaintext AUTH.
    onSecure(_socket, session, callback) {
      senders.delete(session.id);
      charged.delete(session.id);
      callback();
    },
    onClose(session) {
      if (counted.delete(session.id)) limiter.closeConnection(session.remoteAddress);
      senders.delete(session.id);
      charged.delete(session.id);
    },
    onAuth(auth, session, callback) {
      const ip = session.remoteAddress;
      if (!hooks.authenticate) return callback(smtpError(502, "5.5.1 AUTH not available"));
      // RFC 4954 §4: else a sign-in would adopt a MAIL FROM taken while anonymous, past the 553 of onMailFrom.
      if (session.envelope.mailFrom)
        return callback(smtpError(503, "5.5.1 AUTH not permitted during a mail transaction"));
      if (authThrottle.blocked(ip))
        return callback(smtpError(454, "4.7.0 Too many failed attempts, try again later"));
      const username = auth.username ?? "";
      hooks.authenticate(username, auth.password ?? "", ip).then((sender) => {
        if (!sender) {
          authThrottle.failed(ip, username);
          return callback(smtpError(535, "5.7.8 Authentication credentials invalid"));
        }
        authThrottle.succeeded(ip, username);
        if (counted.has(session.id)) senders.set(session.id, sender);
        callback(null, { user: sender.userId });
      }, fail(callback));
    },
    onMailFrom(address: SMTPServerAddress, session, callback) {
      charged.delete(session.id); // a new transaction
      if (!limiter.allowMessage(session.remoteAddress)) {
        metrics.smtpSessions.inc({ outcome: "rate_limited" });
        return callback(smtpError(451, "4.7.1 Too many messages from your address, slow down"));
      }
      const sender = senders.get(session.id);
      if (!sender) return callback();
      // A null reverse-path (<>) names nobody: read receipts and auto-replies go with it (RFC 8098 §3, RFC 3834 §3.3).
      if (address.address !== "" && !isOwnAddress(sender, address.address)) {
        return callback(smtpError(553, `5.7.1 ${sender.email} may not send as ${address.address}`));
      }
      const stands = hooks.signInStands ? hooks.signInStands(sender) : Promise.resolve(true);
      stands.then((valid) => {
        if (valid) return callback();
        // Revoked or disabled since AUTH: the session ends (421 closes it); signing in again meets the 535.
        senders.delete(session.id);
        callback(smtpError(421, "4.7.0 Your sign-in is no longer valid, closing connection"));
      }, fail(callback));
    },
    onRcptTo(address, session, callback) {
      // Named again (smtp-server keeps one entry, compared case-insensitively): checked and charged when first named.
      const repeated = address.address.toLowerCase();
      if (session.envelope.rcptTo.some((r) => r.address.toLowerCase() === repeated)) return callback();
      if (session.envelope.rcptTo.length >= config.MAILWARD_SMTP_MAX_RECIPIENTS) {
        return callback(smtpError(452, "4.5.3 Too many recipients"));
      }
      const sender = senders.get(session.id) ?? null;
      // Only recipients the checks accept count toward a sender's hourly allowance.
      const withinQuota = async () => {
        if (!sender) return callback();
        const quota = await senderAllowances.takeRecipient(sender.userId);
        if (quota.allowed) {
          if (counted.has(session.id)) charged.set(session.id, (charged.get(session.id) ?? 0) + 1);
          return callback();
        }
        metrics.smtpSessions.inc({ outcome: "sender_rate_limited" });
        if (quota.firstRefusal && hooks.senderLimited) {
          hooks.senderLimited(sender, session.remoteAddress).catch((err: unknown) => {
            logger.error({ err: errMessage(err) }, "sender limit report failed");
          });
        }
        callback(
          smtpError(451, `4.7.1 ${sender.email} has reached its recipients per hour, try again later`),
        );
      };
      const checked = hooks.onRcptTo
        ? hooks.onRcptTo(addressWithAsciiDomain(address.address), sender, session)
        : Promise.resolve();
      checked.then(withinQuota).catch(fail(callback));
    },
    onData(stream, session, callback) {
      receiveData(dataStage, stream, session, callback);
    },
  });
  server.on("error", (err) => logger.warn({ err: { message: err.message } }, "smtp server error"));
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
    tls: tls !== null,
    isListening: () => listening,
    trackedSessions: () => new Set([...senders.keys(), ...charged.keys()]).size,
    close: () =>
      new Promise<void>((resolve) => {
        listening = false;
        server.close(() => resolve());
      }),
  };
}
