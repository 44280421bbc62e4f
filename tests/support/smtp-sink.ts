import { SMTPServer, type SMTPServerSession } from "smtp-server";
import type { Readable } from "node:stream";

/** One message the sink accepted: the envelope and the exact bytes. */
export interface SinkMessage {
  mailFrom: string;
  rcptTo: string[];
  /** The RCPT TO addresses as the client sent them (rcptTo is lowercased, for matching). */
  rcptToAsSent: string[];
  raw: Buffer;
  messageId: string | null;
  receivedAt: Date;
  /** The transaction ran over TLS (STARTTLS). */
  tls: boolean;
}

/** How the sink answers: accept, or refuse at the end of DATA with a temporary or permanent error. */
export type SinkMode =
  { kind: "accept" } | { kind: "tempfail"; reply?: string } | { kind: "permfail"; reply?: string };

/** A real SMTP server on 127.0.0.1 acting as the next hop in tests. */
export interface SmtpSink {
  port: number;
  /** "127.0.0.1:port", the value for MAILWARD_NEXT_HOP. */
  address: string;
  messages: SinkMessage[];
  /** How many transactions reached the end of DATA (accepted or not). */
  attempts(): number;
  setMode(mode: SinkMode): void;
  /** Answers the final dot only after `ms` (a next hop busy processing the message); 0 answers at once. */
  delayReplies(ms: number): void;
  /** Refuses these recipients at RCPT TO with the given code (e.g. 550 unknown user). */
  refuseRecipient(address: string, code: number, message: string): void;
  /** Stops listening (connections are refused) until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Messages carrying this Message-ID (optionally for one recipient). */
  withMessageId(messageId: string, recipient?: string): SinkMessage[];
  /** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
  waitFor(predicate: (messages: SinkMessage[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function messageIdOf(raw: Buffer): string | null {
  const head = raw.subarray(0, 64 * 1024).toString("latin1");
  const end = head.search(/\r?\n\r?\n/);
  const match = /^message-id:\s*(<[^>\r\n]*>)/im.exec(end >= 0 ? head.slice(0, end) : head);
  return match?.[1] ?? null;
}

function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

function readAll(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

/**
 * Starts a sink on an ephemeral port (or `port`), offering STARTTLS when given a key and certificate, and
 * announcing `size` as its SIZE limit (100 MB by default). close() it in afterAll.
 */
export async function startSmtpSink(
  port = 0,
  options: { tls?: { key: Buffer; cert: Buffer }; size?: number } = {},
): Promise<SmtpSink> {
  const messages: SinkMessage[] = [];
  const refused = new Map<string, { code: number; message: string }>();
  let mode: SinkMode = { kind: "accept" };
  let attempts = 0;
  let replyDelayMs = 0;
  let server: SMTPServer | null = null;

  const create = () =>
    new SMTPServer({
      authOptional: true,
      ...(options.tls
        ? { disabledCommands: ["AUTH"], key: options.tls.key, cert: options.tls.cert }
        : { disabledCommands: ["AUTH", "STARTTLS"], hideSTARTTLS: true }),
      logger: false,
      closeTimeout: 100,
      size: options.size ?? 100 * 1024 * 1024,
      onRcptTo(address, _session: SMTPServerSession, callback) {
        const refusal = refused.get(address.address.toLowerCase());
        callback(refusal ? smtpError(refusal.code, refusal.message) : undefined);
      },
      onData(stream, session, callback) {
        readAll(stream).then(async (raw) => {
          if (replyDelayMs > 0) await new Promise((r) => setTimeout(r, replyDelayMs));
          attempts += 1;
          if (mode.kind === "tempfail")
            return callback(smtpError(451, mode.reply ?? "4.3.0 Sink is failing temporarily"));
          if (mode.kind === "permfail")
            return callback(smtpError(550, mode.reply ?? "5.7.1 Sink refuses this message"));
          messages.push({
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            rcptTo: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
            rcptToAsSent: session.envelope.rcptTo.map((r) => r.address),
            raw,
            messageId: messageIdOf(raw),
            receivedAt: new Date(),
            tls: session.secure,
          });
          callback();
        }, callback);
      },
    });

  const listen = async (on: number): Promise<number> => {
    const instance = create();
    instance.on("error", () => undefined);
    await new Promise<void>((resolve, reject) => {
      instance.server.once("error", reject);
      instance.listen(on, "127.0.0.1", () => resolve());
    });
    server = instance;
    const address = instance.server.address();
    return typeof address === "object" && address ? address.port : on;
  };
  const stop = async () => {
    const instance = server;
    server = null;
    if (instance) await new Promise<void>((resolve) => instance.close(() => resolve()));
  };

  const boundPort = await listen(port);
  return {
    port: boundPort,
    address: `127.0.0.1:${boundPort}`,
    messages,
    attempts: () => attempts,
    setMode(next) {
      mode = next;
    },
    delayReplies(ms) {
      replyDelayMs = ms;
    },
    refuseRecipient(address, code, message) {
      refused.set(address.toLowerCase(), { code, message });
    },
    down: stop,
    async up() {
      if (!server) await listen(boundPort);
    },
    withMessageId(messageId, recipient) {
      return messages.filter(
        (m) => m.messageId === messageId && (!recipient || m.rcptTo.includes(recipient.toLowerCase())),
      );
    },
    async waitFor(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(messages)) {
        if (Date.now() > deadline)
          throw new Error(
            `smtp sink: condition not met within ${timeoutMs} ms (${messages.length} messages)`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: stop,
  };
}
