import fs from "node:fs";
import { X509Certificate, createHash } from "node:crypto";
import type { Config } from "../config";

/** How the app proves who it is to Entra: a client secret, or a certificate's private key and SHA-256 thumbprint. */
export type GraphCredential =
  | { kind: "secret"; secret: string }
  | { kind: "certificate"; privateKey: string; thumbprintSha256: string; x5c?: string };

/** The Graph connector's settings, resolved from MAILWARD_GRAPH_* (README "Microsoft Graph mode"). */
export interface GraphSettings {
  /** The Entra directory (tid) of the Microsoft 365 tenant whose mailboxes are watched. */
  directoryId: string;
  clientId: string;
  credential: GraphCredential;
  /** Cloud authority host without trailing slash. */
  authority: string;
  /** Graph root including the version, e.g. https://graph.microsoft.com/v1.0. */
  baseUrl: string;
  /** Public base URL Graph posts to; the webhook paths are appended. */
  notificationBaseUrl: string;
  subscriptionMinutes: number;
  maxConcurrency: number;
  /** Lower-cased addresses to enrol; empty means every user of a graph/both tenant. */
  mailboxAllowList: ReadonlySet<string>;
  quarantineFolderName: string;
  inboxRules: boolean;
  /** Each sweep first reads the directory's people and their proxy addresses into users and aliases. */
  directorySync: boolean;
  sweepMs: number;
  pollMs: number;
}

/** The webhook paths (DESIGN §4): change notifications and lifecycle events. */
export const NOTIFICATION_PATH = "/api/graph/notifications";
/** Where Graph posts lifecycle events (reauthorizationRequired, subscriptionRemoved, missed). */
export const LIFECYCLE_PATH = "/api/graph/lifecycle";

function certificateCredential(config: Config): GraphCredential | null {
  const file = config.MAILWARD_GRAPH_CERTIFICATE_PATH;
  if (!file) return null;
  const pem = fs.readFileSync(file, "utf8");
  const key = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(
    pem,
  )?.[0];
  if (!key) throw new Error("MAILWARD_GRAPH_CERTIFICATE_PATH holds no private key");
  const certificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  let thumbprint = config.MAILWARD_GRAPH_CERTIFICATE_THUMBPRINT?.toLowerCase();
  if (!thumbprint && certificate)
    thumbprint = createHash("sha256").update(new X509Certificate(certificate).raw).digest("hex");
  if (!thumbprint)
    throw new Error(
      "MAILWARD_GRAPH_CERTIFICATE_PATH has no certificate: set MAILWARD_GRAPH_CERTIFICATE_THUMBPRINT",
    );
  return {
    kind: "certificate",
    privateKey: key,
    thumbprintSha256: thumbprint,
    ...(certificate ? { x5c: certificate } : {}),
  };
}

/** The connector's settings, or null when Graph is not configured (no MAILWARD_GRAPH_CLIENT_ID). */
export function graphSettingsFrom(config: Config): GraphSettings | null {
  const clientId = config.MAILWARD_GRAPH_CLIENT_ID;
  if (!clientId) return null;
  if (!config.MAILWARD_GRAPH_TENANT_ID)
    throw new Error("MAILWARD_GRAPH_CLIENT_ID is set but MAILWARD_GRAPH_TENANT_ID is not");
  const credential: GraphCredential | null =
    certificateCredential(config) ??
    (config.MAILWARD_GRAPH_CLIENT_SECRET
      ? { kind: "secret", secret: config.MAILWARD_GRAPH_CLIENT_SECRET }
      : null);
  if (!credential)
    throw new Error("Graph needs MAILWARD_GRAPH_CLIENT_SECRET or MAILWARD_GRAPH_CERTIFICATE_PATH");
  return {
    directoryId: config.MAILWARD_GRAPH_TENANT_ID.toLowerCase(),
    clientId,
    credential,
    authority: config.MAILWARD_GRAPH_AUTHORITY.replace(/\/+$/, ""),
    baseUrl: config.MAILWARD_GRAPH_BASE_URL.replace(/\/+$/, ""),
    notificationBaseUrl: (config.MAILWARD_GRAPH_NOTIFICATION_URL ?? config.MAILWARD_PUBLIC_URL).replace(
      /\/+$/,
      "",
    ),
    subscriptionMinutes: config.MAILWARD_GRAPH_SUBSCRIPTION_MINUTES,
    maxConcurrency: config.MAILWARD_GRAPH_MAX_CONCURRENCY,
    mailboxAllowList: new Set(
      config.MAILWARD_GRAPH_MAILBOXES.split(",")
        .map((a) => a.trim().toLowerCase())
        .filter(Boolean),
    ),
    quarantineFolderName: config.MAILWARD_GRAPH_QUARANTINE_FOLDER,
    inboxRules: config.MAILWARD_GRAPH_INBOX_RULES,
    directorySync: config.MAILWARD_GRAPH_DIRECTORY_SYNC,
    sweepMs: config.MAILWARD_GRAPH_SWEEP_SECONDS * 1000,
    pollMs: config.MAILWARD_GRAPH_POLL_MS,
  };
}
