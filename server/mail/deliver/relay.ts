import SMTPConnection from "nodemailer/lib/smtp-connection";
import { GuardedBody } from "./guarded-body";
import type { NextHop, NextHopTls } from "./next-hop";

/** How one relay attempt ended, as the queue records it. */
export type RelayResult =
  | { kind: "delivered"; response: string }
  | {
      kind: "temporary";
      error: string;
      handedOff: boolean;
      ambiguous: boolean;
      /** The next hop itself failed (unreachable, 421 closing, dropped the connection), not this one message. */
      hopDown: boolean;
    }
  | {
      kind: "permanent";
      error: string;
      code: number;
      response: string;
      /** Refused here, before the transfer (the next hop's SIZE limit), so the text is ours, not the next hop's reply. */
      local?: true;
    }
  | { kind: "aborted"; error: string };

interface SmtpFailure {
  message?: string;
  responseCode?: number;
  response?: string;
  code?: string;
  command?: string;
}

function hasEightBit(raw: Buffer): boolean {
  for (let i = 0; i < raw.length; i++) if ((raw[i] ?? 0) > 127) return true;
  return false;
}

function describe(err: SmtpFailure): string {
  return (err.response ?? err.message ?? "unknown error").replace(/\s+/g, " ").slice(0, 500);
}

/**
 * How long the next hop may stay silent once connected: RFC 5321 §4.5.3.2.6's 10 minutes for the reply to the final
 * dot, while it processes the message. A shorter wait gives up on a message it is about to accept, and the retry
 * delivers it a second time.
 */
const REPLY_TIMEOUT_MS = 10 * 60_000;

/** The default for the whole of one attempt (MAILWARD_DELIVERY_ATTEMPT_TIMEOUT_SECONDS). */
const ATTEMPT_TIMEOUT_MS = 30 * 60_000;

/** A connection idle longer than this is not reused (a firewall or the hop may have dropped it silently meanwhile). */
const IDLE_REUSE_MS = 60_000;

/**
 * One SMTP connection to the next hop, reused for consecutive messages
 * (STARTTLS as MAILWARD_NEXT_HOP_TLS asks: see NextHopTls).
 * Any error closes it; the next send opens a fresh one.
 */
export class NextHopConnection {
  private connection: SMTPConnection | null = null;
  private connecting: Promise<SMTPConnection> | null = null;
  /** When the open connection last finished something (connected, or delivered a message). */
  private idleSince = 0;
  /** Ends what is in flight now (setting a session up, or a send) as a temporary failure: see abortInFlight. */
  private readonly inFlight = new Set<(reason: string) => void>();

  constructor(
    private readonly hop: NextHop,
    private readonly clientName: string,
    private readonly timeoutMs = REPLY_TIMEOUT_MS,
    private readonly tls: NextHopTls = { mode: "opportunistic" },
    /**
     * The longest an attempt may take, from connecting (or reusing the open connection) to the reply to the final
     * dot. The idle timeout above restarts with every byte, so a next hop that trickles them would hold the
     * connection and the delivery forever.
     */
    private readonly attemptTimeoutMs = ATTEMPT_TIMEOUT_MS,
  ) {}

  private open(): Promise<SMTPConnection> {
    if (this.connection && Date.now() - this.idleSince <= IDLE_REUSE_MS)
      return Promise.resolve(this.connection);
    if (this.connection) this.close();
    this.connecting ??= new Promise<SMTPConnection>((resolve, reject) => {
      const connection = new SMTPConnection({
        host: this.hop.host,
        port: this.hop.port,
        name: this.clientName,
        ...(this.tls.mode === "opportunistic" ? { opportunisticTLS: true } : { requireTLS: true }),
        tls:
          this.tls.mode === "verified"
            ? // nodemailer names the host for SNI and Node checks the certificate against it.
              { rejectUnauthorized: true, ...(this.tls.ca ? { ca: this.tls.ca } : {}) }
            : { rejectUnauthorized: false },
        connectionTimeout: Math.min(this.timeoutMs, 30_000),
        greetingTimeout: Math.min(this.timeoutMs, 30_000),
        socketTimeout: this.timeoutMs,
        socketCloseTimeout: 0,
        logger: false,
      });
      // nodemailer bounds connecting and the greeting, but an EHLO reply that never ends meets only the idle
      // timeout, which each line restarts: setting the session up counts against the attempt's deadline.
      const giveUp = (reason: string) => {
        clearTimeout(setup);
        this.inFlight.delete(giveUp);
        reject(Object.assign(new Error(reason), { code: "ETIMEDOUT" }));
        try {
          connection.close();
        } catch {
          /* already closed */
        }
      };
      const setup = setTimeout(
        () => giveUp(`no session within the attempt deadline (${this.attemptTimeoutMs / 1000} s)`),
        this.attemptTimeoutMs,
      );
      this.inFlight.add(giveUp);
      connection.once("error", (err: Error) => {
        clearTimeout(setup);
        this.inFlight.delete(giveUp);
        this.connection = null;
        reject(err);
      });
      connection.once("end", () => {
        if (this.connection === connection) this.connection = null;
      });
      connection.connect((err) => {
        clearTimeout(setup);
        this.inFlight.delete(giveUp);
        if (err) return reject(err);
        connection.on("error", () => {
          if (this.connection === connection) this.connection = null;
        });
        this.connection = connection;
        this.idleSince = Date.now();
        resolve(connection);
      });
    }).finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  /**
   * Sends `raw` to one recipient. `handoff` runs after the whole body was
   * streamed and before the final dot; it must durably record the handoff.
   */
  async send(
    envelope: { from: string; to: string },
    raw: Buffer,
    handoff: () => Promise<boolean>,
  ): Promise<RelayResult> {
    let handedOff = false;
    let connection: SMTPConnection;
    const startedAt = Date.now();
    try {
      connection = await this.open();
    } catch (err) {
      return {
        kind: "temporary",
        // Under a TLS policy, a refused STARTTLS or certificate is the likely cause: say which policy applied.
        error: `next hop unreachable${this.tls.mode === "opportunistic" ? "" : ` with TLS ${this.tls.mode}`}: ${describe(err as SmtpFailure)}`,
        handedOff: false,
        ambiguous: false,
        hopDown: true,
      };
    }
    const body = new GuardedBody(raw, async () => {
      const ok = await handoff();
      handedOff = ok;
      return ok;
    });
    return new Promise<RelayResult>((resolve) => {
      const smtpEnvelope = {
        from: envelope.from === "" ? (false as const) : envelope.from,
        to: envelope.to,
        size: raw.length,
        use8BitMime: hasEightBit(raw),
      };
      // nodemailer drops a closed connection's pending callback: the attempt ends here, as a dropped connection
      // would end it (possibly delivered only if the final dot went out).
      const giveUp = (reason: string) => {
        clearTimeout(deadline);
        this.inFlight.delete(giveUp);
        this.discard(connection);
        body.destroy();
        resolve({
          kind: "temporary",
          error: reason,
          handedOff,
          ambiguous: handedOff && body.dotSent,
          hopDown: false,
        });
      };
      const deadline = setTimeout(
        () => giveUp(`no final reply within the attempt deadline (${this.attemptTimeoutMs / 1000} s)`),
        Math.max(this.attemptTimeoutMs - (Date.now() - startedAt), 1),
      );
      this.inFlight.add(giveUp);
      connection.send(smtpEnvelope, body, (err, info) => {
        clearTimeout(deadline);
        this.inFlight.delete(giveUp);
        if (!err && info) {
          this.idleSince = Date.now();
          return resolve({ kind: "delivered", response: describe({ response: info.response }) });
        }
        this.discard(connection);
        const failure = (err ?? {}) as SmtpFailure;
        if (!handedOff && body.refused && !failure.responseCode) {
          return resolve({ kind: "aborted", error: describe(failure) });
        }
        // nodemailer refuses, without asking, a message larger than the SIZE the next hop announced: that will
        // not change by retrying, so it fails for good, as RFC 3463's 5.3.4 (message too big for system).
        if (failure.code === "EMESSAGE" && failure.command === "MAIL FROM" && !failure.responseCode) {
          const response = `5.3.4 The message (${raw.length} bytes) is larger than the next hop accepts: ${describe(failure)}`;
          return resolve({ kind: "permanent", error: response, code: 552, response, local: true });
        }
        const code = failure.responseCode ?? 0;
        if (code >= 500 && code !== 503) {
          return resolve({ kind: "permanent", error: describe(failure), code, response: describe(failure) });
        }
        // After the dot, only an explicit reply says the next hop did not take it; a timeout or a dropped connection does
        // not. Before the dot (the body still going out), the next hop cannot have accepted the message, whatever happened.
        resolve({
          kind: "temporary",
          error: describe(failure),
          handedOff,
          ambiguous: handedOff && body.dotSent && !failure.responseCode,
          hopDown: code === 421 || !failure.responseCode,
        });
      });
    });
  }

  /**
   * Ends the attempt in flight (when there is one) as a temporary failure with `reason` (retried later; possibly delivered only
   * if its final dot went out): a stopping gateway gives a hung next hop a grace period, not the attempt's 30 minutes.
   */
  abortInFlight(reason: string): void {
    for (const giveUp of [...this.inFlight]) giveUp(reason);
  }

  /** Whether the next hop answers now (connected and greeted under the TLS policy); the connection is kept for the next send. */
  async probe(): Promise<boolean> {
    try {
      await this.open();
      return true;
    } catch {
      return false;
    }
  }

  private discard(connection: SMTPConnection): void {
    if (this.connection === connection) this.connection = null;
    try {
      connection.close();
    } catch {
      /* already closed */
    }
  }

  /** Says goodbye and closes the connection, if any. */
  close(): void {
    const connection = this.connection;
    this.connection = null;
    if (!connection) return;
    try {
      connection.quit();
    } catch {
      /* already closed */
    }
  }
}
