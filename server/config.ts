import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { CLAMD_SETTING_PATTERN, DEFAULT_CLAMD_STREAM_LIMIT } from "./mail/scan/clamd";
import { normalizeDomain } from "./mail/scan/sender-patterns";
import { trustProxySetting } from "./http/trust-proxy";
import { DEFAULT_SCAN_STALL_LIMIT_MS } from "./mail/pipeline/scan-thread";

const port = z.coerce.number().int().min(0).max(65535);
const hostPort = z.string().regex(/^[A-Za-z0-9.\-[\]:]+:[0-9]{1,5}$/, "host:port, e.g. smtp.example.com:25");

/** Every setting Mailward reads from the environment, with its embedded default. */
export const configSchema = z.object({
  MAILWARD_HTTP_PORT: port.default(3000),
  MAILWARD_HTTP_HOST: z.string().default("0.0.0.0"),
  MAILWARD_SMTP_PORT: port.default(2525),
  MAILWARD_SMTP_HOST: z.string().default("0.0.0.0"),
  MAILWARD_DATA_DIR: z.string().default("./data"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "a postgres:// URL")
    .optional(),
  MAILWARD_PUBLIC_URL: z.url().default("http://localhost:3000"),
  MAILWARD_NEXT_HOP: hostPort.optional(),
  /** TLS to the next hop: opportunistic (STARTTLS when offered), required (never in clear), verified (+ certificate). */
  MAILWARD_NEXT_HOP_TLS: z.enum(["opportunistic", "required", "verified"]).default("opportunistic"),
  /** The CA (PEM, or a file path) that signs the next hop's certificate, when it is not a public one. */
  MAILWARD_NEXT_HOP_CA: z.string().optional(),
  /** ARC sealing of relayed mail (RFC 8617): the signing domain, the selector, and the private key (PEM or a file). */
  MAILWARD_ARC_DOMAIN: z.string().optional(),
  MAILWARD_ARC_SELECTOR: z.string().optional(),
  MAILWARD_ARC_KEY: z.string().optional(),
  MAILWARD_ADMIN_EMAIL: z.email().optional(),
  MAILWARD_ADMIN_PASSWORD: z.string().min(12, "at least 12 characters").optional(),
  MAILWARD_TENANT_DOMAINS: z
    .string()
    .default("")
    .refine(
      (value) => listedDomains(value).every((domain) => normalizeDomain(domain) !== null),
      "a comma-separated list of domain names, e.g. contoso.com,contoso.co.uk",
    ),
  MAILWARD_TENANT_NAME: z.string().default("Default"),
  MAILWARD_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  MAILWARD_TRUST_PROXY: z
    .string()
    .optional()
    .refine(
      (value) => value === undefined || trustProxySetting(value) !== null,
      "a number of proxy hops (1), true, or proxy addresses and subnets (loopback, 10.0.0.0/8)",
    )
    .transform((value) => (value === undefined ? undefined : (trustProxySetting(value) ?? undefined))),
  MAILWARD_SMTP_MAX_SIZE: z.coerce
    .number()
    .int()
    .positive()
    .default(35 * 1024 * 1024),
  MAILWARD_SMTP_TLS_KEY: z.string().optional(),
  MAILWARD_SMTP_TLS_CERT: z.string().optional(),
  MAILWARD_SESSION_TTL_HOURS: z.coerce.number().int().positive().default(12),
  /**
   * The server key that encrypts secrets at rest (TOTP): 32 bytes in base64 or hex, or the path of a file holding
   * them. Unset: MAILWARD_DATA_DIR/secret.key, made at first start (auth/server-key.ts).
   */
  MAILWARD_SECRET_KEY: z.string().optional(),
  /**
   * The key MAILWARD_SECRET_KEY replaces, set for one start to rotate: the TOTP secrets are re-encrypted with the new
   * key and the database records it (auth/key-rotation.ts). Same forms as MAILWARD_SECRET_KEY.
   */
  MAILWARD_SECRET_KEY_PREVIOUS: z.string().optional(),
  /** When set, /metrics answers only `Authorization: Bearer <token>` (Prometheus' `authorization` setting). */
  MAILWARD_METRICS_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  RSPAMD_URL: z.url().optional(),
  /** ClamAV's daemon, scanning every message beside the verdict engine: host:port or a Unix socket path. */
  MAILWARD_CLAMD: z
    .string()
    .regex(CLAMD_SETTING_PATTERN, "host:port (e.g. 127.0.0.1:3310) or a socket path (/run/clamav/clamd.ctl)")
    .optional(),
  /**
   * clamd's StreamMaxLength in bytes (clamd.conf's default, 25M, is this default): a longer message is marked
   * unscanned without sending it, instead of clamd cutting the stream off part way.
   */
  MAILWARD_CLAMD_STREAM_LIMIT: z.coerce.number().int().positive().default(DEFAULT_CLAMD_STREAM_LIMIT),
  /**
   * The most tokens an organisation's content classifier keeps (each process and scan thread holds them all, ~100
   * bytes each): past it, the periodic pruning deletes the least telling ones (jobs/classifier-pruning.ts).
   */
  MAILWARD_CLASSIFIER_MAX_TOKENS: z.coerce.number().int().min(10_000).default(1_000_000),
  // Gateway and delivery (issue 3).
  MAILWARD_SMTP_MAX_CLIENTS: z.coerce.number().int().positive().default(500),
  MAILWARD_SMTP_MAX_CONNECTIONS_PER_IP: z.coerce.number().int().positive().default(20),
  /** Messages (MAIL FROM) per client IP per minute; 0 turns the limit off. */
  MAILWARD_SMTP_MESSAGES_PER_MINUTE_PER_IP: z.coerce.number().int().min(0).default(600),
  /**
   * Recipients per hour for each signed-in (SMTP AUTH) sender, per gateway instance; past it, 451 4.7.1 and
   * an audit event. Slows a compromised account or a leaked SMTP password; 0 turns the limit off.
   */
  MAILWARD_SMTP_RECIPIENTS_PER_HOUR_PER_SENDER: z.coerce.number().int().min(0).default(1000),
  /**
   * Recipients per message (RFC 5321 asks for at least 100). At most 1,000: one message's commit binds
   * up to ~63 parameters per recipient (a tenant copy each, at worst), and PostgreSQL takes 65,535.
   */
  MAILWARD_SMTP_MAX_RECIPIENTS: z.coerce.number().int().positive().max(1000).default(100),
  /**
   * How long the gateway waits for a client's next command (or more DATA) before it closes the session with 421.
   * RFC 5321 §4.5.3.2.7 asks a server to wait at least 5 minutes; smtp-server's own default is 60 s.
   */
  MAILWARD_SMTP_IDLE_TIMEOUT_SECONDS: z.coerce.number().positive().default(300),
  /** Offer AUTH without TLS (only for a trusted internal network). */
  MAILWARD_SMTP_ALLOW_INSECURE_AUTH: z.stringbool().default(false),
  /**
   * Whether SMTP AUTH also takes a local account's own password (never for accounts with TOTP). `false`:
   * only SMTP passwords made in the portal, which an administrator can require for every sender.
   */
  MAILWARD_SMTP_ACCOUNT_PASSWORDS: z.stringbool().default(true),
  /**
   * Whether the Received field of a signed-in sender's mail names their device (its EHLO name and IP address, often
   * a home connection). Off: the field records the hop without them, so customers cannot read where an agent works
   * from; the message trace keeps both.
   */
  MAILWARD_SHOW_SUBMITTER_CLIENT: z.stringbool().default(false),
  /** DNS for SPF/DKIM/DMARC/ARC: the system resolver, or none at all (air-gapped: results are `none`). */
  MAILWARD_DNS: z.enum(["system", "offline"]).default("system"),
  /** How long the gateway keeps a DNS answer or an NXDOMAIN (0: no cache, every message asks again). */
  MAILWARD_DNS_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  /** DNS blocklists (comma-separated zones, e.g. zen.spamhaus.org) the client IP is looked up in; empty: none. */
  MAILWARD_DNSBL: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((zone) => zone.trim().toLowerCase())
        .filter((zone) => zone !== ""),
    )
    .pipe(
      z.array(
        z
          .string()
          .regex(
            /^(?=.{1,200}$)([a-z0-9-]+\.)+[a-z0-9-]+\.?$/,
            "each blocklist must be a DNS zone, e.g. zen.spamhaus.org",
          ),
      ),
    ),
  MAILWARD_DELIVERY_CONCURRENCY: z.coerce.number().int().positive().default(4),
  MAILWARD_DELIVERY_LEASE_SECONDS: z.coerce.number().positive().default(120),
  MAILWARD_DELIVERY_RETRY_BASE_SECONDS: z.coerce.number().positive().default(60),
  MAILWARD_DELIVERY_RETRY_MAX_SECONDS: z.coerce.number().positive().default(3600),
  MAILWARD_DELIVERY_MAX_AGE_HOURS: z.coerce.number().positive().default(120),
  /**
   * The longest one delivery attempt may take, connect to final reply (deliver/relay.ts): a next hop that trickles
   * bytes resets the socket's idle timeout forever. 30 minutes: 35 MB (MAILWARD_SMTP_MAX_SIZE) at a slow 0.5 Mbit/s
   * is about 10, plus RFC 5321's 10 for the reply to the final dot, plus the envelope's replies.
   */
  MAILWARD_DELIVERY_ATTEMPT_TIMEOUT_SECONDS: z.coerce.number().positive().default(1800),
  /** Inbound mail the gateway delivers with at least this score is marked `suspect` for Microsoft 365 (deliver/verdict-field.ts). */
  MAILWARD_SUSPECT_SCORE: z.coerce.number().min(0).default(3),
  /** A portal session older than this (from its sign-in) cannot make an SMTP password (policies/smtp-passwords.ts). */
  MAILWARD_RECENT_SIGN_IN_MINUTES: z.coerce.number().positive().default(15),
  /** Worker threads that parse and scan mail (0: the main thread does it). */
  MAILWARD_SCAN_THREADS: z.coerce.number().int().min(0).max(64).default(0),
  /** With no scan threads: messages of this many bytes or more are analysed on one, under the stall limit (0: none). */
  MAILWARD_SCAN_THREAD_MIN_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(32 * 1024),
  /**
   * How long a scan thread with mail in flight may send no heartbeat before it is stopped and its mail retried alone.
   * At most 25 s, so that both tries end within a minute, far inside the 10 minutes a sender waits for its answer (RFC
   * 5321 §4.5.3.2.6). smtp-server's idle timeout (MAILWARD_SMTP_IDLE_TIMEOUT_SECONDS) does not run while it is owed.
   */
  MAILWARD_SCAN_STALL_LIMIT_MS: z.coerce
    .number()
    .int()
    .min(100)
    .max(25_000)
    .default(DEFAULT_SCAN_STALL_LIMIT_MS),
  /** Most messages the gateway commits in one transaction (group commit; 1: each message alone). */
  MAILWARD_INGEST_BATCH: z.coerce.number().int().min(1).max(256).default(32),
  /** How many of those transactions may run at once (1: what arrives during a commit waits and goes in the next). */
  MAILWARD_INGEST_COMMITS_IN_FLIGHT: z.coerce.number().int().min(1).max(8).default(1),
  /**
   * The longest a message waits for its commit before the gateway answers 451 4.3.0 (a database that stopped answering
   * must hold neither its senders, who wait up to 10 minutes for that answer (RFC 5321 §4.5.3.2.6), nor the commits
   * behind it). On PostgreSQL the gateway's own connections (commits, recipient lookups) cancel each statement at the
   * same limit, so a lookup at RCPT TO waits no longer either. A commit that lands late all the same (its answer
   * lost on the way) is found by the sender's retry, which changes nothing.
   */
  MAILWARD_INGEST_COMMIT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(20_000),
  // Identity (issue 4): Entra ID, local accounts, lockout, password policy.
  MAILWARD_ENTRA_CLIENT_ID: z.string().min(1).optional(),
  MAILWARD_ENTRA_CLIENT_SECRET: z.string().min(1).optional(),
  MAILWARD_ENTRA_AUTHORITY: z.url().default("https://login.microsoftonline.com"),
  MAILWARD_ENTRA_ALLOWED_TENANTS: z.string().default(""),
  MAILWARD_ENTRA_API_AUDIENCE: z.string().default(""),
  MAILWARD_ENTRA_ALLOWED_CLIENTS: z.string().default(""),
  MAILWARD_ENTRA_OFFICE_SSO: z.stringbool().default(true),
  MAILWARD_ENTRA_REQUIRED_SCOPE: z.string().min(1).default("access_as_user"),
  MAILWARD_ENTRA_JWKS_URL: z.string().optional(),
  MAILWARD_ENTRA_TENANT_ID: z.string().optional(),
  MAILWARD_ENTRA_SIGN_IN_TENANT: z.string().optional(),
  MAILWARD_ENTRA_JIT_USERS: z.stringbool().default(false),
  MAILWARD_ADMIN_TOTP: z.enum(["required", "optional"]).default("required"),
  MAILWARD_PASSWORD_MIN_LENGTH: z.coerce.number().int().min(8).max(128).default(12),
  MAILWARD_PASSWORD_MIN_CLASSES: z.coerce.number().int().min(0).max(4).default(0),
  MAILWARD_PASSWORD_RESET_TTL_MINUTES: z.coerce.number().int().positive().default(30),
  MAILWARD_LOCKOUT_THRESHOLD: z.coerce.number().int().positive().default(5),
  MAILWARD_LOCKOUT_MINUTES: z.coerce.number().int().positive().default(15),
  MAILWARD_LOGIN_RATE_LIMIT: z.coerce.number().int().positive().default(100),
  MAILWARD_LOGIN_RATE_WINDOW_MINUTES: z.coerce.number().int().positive().default(15),
  // Microsoft Graph connector (issue 8): app-only access to the tenant's mailboxes (README "Microsoft Graph mode").
  MAILWARD_GRAPH_TENANT_ID: z.string().min(1).optional(),
  MAILWARD_GRAPH_CLIENT_ID: z.string().min(1).optional(),
  MAILWARD_GRAPH_CLIENT_SECRET: z.string().min(1).optional(),
  /** PEM file with the app's private key (and its certificate, for the thumbprint). */
  MAILWARD_GRAPH_CERTIFICATE_PATH: z.string().min(1).optional(),
  MAILWARD_GRAPH_CERTIFICATE_THUMBPRINT: z
    .string()
    .regex(/^[0-9A-Fa-f]{64}$/, "a SHA-256 thumbprint (64 hex digits)")
    .optional(),
  MAILWARD_GRAPH_AUTHORITY: z.url().default("https://login.microsoftonline.com"),
  MAILWARD_GRAPH_BASE_URL: z.url().default("https://graph.microsoft.com/v1.0"),
  /** Public base URL Graph posts notifications to (default MAILWARD_PUBLIC_URL); paths /api/graph/notifications and /lifecycle. */
  MAILWARD_GRAPH_NOTIFICATION_URL: z.url().optional(),
  MAILWARD_GRAPH_SUBSCRIPTION_MINUTES: z.coerce.number().int().min(5).max(10080).default(4230),
  MAILWARD_GRAPH_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(4).default(4),
  /** Only these addresses are enrolled (comma-separated); empty: every user of a tenant in graph or both mode. */
  MAILWARD_GRAPH_MAILBOXES: z.string().default(""),
  MAILWARD_GRAPH_QUARANTINE_FOLDER: z.string().min(1).max(255).default("Mailward Quarantine"),
  /** Also add an Outlook inbox rule for a blocked sender (needs MailboxSettings.ReadWrite). */
  MAILWARD_GRAPH_INBOX_RULES: z.stringbool().default(false),
  MAILWARD_GRAPH_DIRECTORY_SYNC: z.stringbool().default(false),
  MAILWARD_GRAPH_SWEEP_SECONDS: z.coerce.number().positive().default(300),
  MAILWARD_GRAPH_POLL_MS: z.coerce.number().int().positive().default(1000),
  NODE_ENV: z.string().default("development"),
});

/** The validated settings the process runs with. */
export type Config = z.infer<typeof configSchema> & { dataDir: string };

/** Thrown when a setting is invalid; main.ts prints `message` as one line and exits 2. */
export class ConfigError extends Error {}

/** Reads and validates settings; a bad value throws a ConfigError naming variable, value and expectation. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const relevant = Object.fromEntries(
    Object.keys(configSchema.shape).map((key) => [key, env[key] === "" ? undefined : env[key]]),
  );
  const parsed = configSchema.safeParse(relevant);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? "?");
    const secret = /PASSWORD|KEY|SECRET/.test(name);
    const value = secret ? "(hidden)" : JSON.stringify(env[name]);
    throw new ConfigError(`Invalid setting ${name}=${value}: expected ${describe(issue?.message)}`);
  }
  return { ...parsed.data, dataDir: path.resolve(parsed.data.MAILWARD_DATA_DIR) };
}

function describe(message: string | undefined): string {
  if (!message) return "a valid value";
  return message.replace(/^Invalid input: /, "").replace(/^expected /, "");
}

/**
 * The bytes of a setting that holds a key or certificate: PEM text as given, or else the path of a
 * file holding it (MAILWARD_SMTP_TLS_*, MAILWARD_NEXT_HOP_CA, MAILWARD_ARC_KEY).
 */
export function pemSetting(value: string): Buffer {
  return value.includes("-----BEGIN") ? Buffer.from(value) : fs.readFileSync(value);
}

/** The tenant domains named in MAILWARD_TENANT_DOMAINS, as stored: lower-case, internationalised ones in punycode. */
export function tenantDomainsFrom(config: Config): string[] {
  return [...new Set(listedDomains(config.MAILWARD_TENANT_DOMAINS).map((d) => normalizeDomain(d) ?? d))];
}

function listedDomains(value: string): string[] {
  return value
    .split(",")
    .map((d) => d.trim())
    .filter(Boolean);
}
