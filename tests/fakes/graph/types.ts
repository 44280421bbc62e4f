import type { JSONWebKeySet } from "jose";

/** The part of the Entra fake the Graph fake needs: its keys (to verify tokens) and tenant. */
export interface GraphTokenAuthority {
  tenantId: string;
  jwks(): JSONWebKeySet;
}

/** A mailbox user to create at start (or later with addUser). */
export interface GraphUserSeed {
  /** Object id (GUID); random when omitted. */
  id?: string;
  userPrincipalName: string;
  displayName?: string;
  /** SMTP address; defaults to the UPN. */
  mail?: string;
  /** Exchange's proxy addresses (`SMTP:` the primary, `smtp:` the others, X500:...); default `SMTP:<mail>`. */
  proxyAddresses?: string[];
  /**
   * False for a directory user without an Exchange Online mailbox (unlicensed, a service account): Graph lists them
   * with `mail` null and no proxy addresses, and their mailbox paths fail with MailboxNotEnabledForRESTAPI.
   */
  mailbox?: boolean;
}

/** A directory group (distribution list, Microsoft 365 group, security group) for GET /groups. */
export interface GraphGroupSeed {
  /** Object id (GUID); random when omitted. */
  id?: string;
  displayName: string;
  /** Its primary SMTP address, when mail-enabled. */
  mail?: string | null;
  /** Default true when `mail` is set. */
  mailEnabled?: boolean;
  /** Default `SMTP:<mail>` for a mail-enabled group, else none. */
  proxyAddresses?: string[];
  /** Direct members: ids, UPNs or mail of seeded users, and ids of nested groups (seeded before or after it). */
  members?: string[];
}

/** A domain of the directory (Entra's Domains page): verified, or added and still waiting for its DNS proof. */
export interface GraphDomainSeed {
  /** The domain name, e.g. contoso.com. */
  id: string;
  /** Default true. */
  isVerified?: boolean;
}

/** Options of startGraphFake. */
export interface GraphFakeOptions {
  /** Verifies bearer tokens: signature from its JWKS, aud https://graph.microsoft.com, roles/scp. */
  entra: GraphTokenAuthority;
  users?: GraphUserSeed[];
  groups?: GraphGroupSeed[];
  /** The directory's domains (GET /domains/{id}). */
  domains?: GraphDomainSeed[];
  /** Refuse requests without a valid token (401). Default true. */
  requireAuth?: boolean;
  /** Concurrent requests allowed per mailbox before 429 MailboxConcurrency; null disables. Default 4. */
  concurrencyLimit?: number | null;
  /** Retry-After (seconds) sent with MailboxConcurrency 429s. Default 1. */
  concurrencyRetryAfterSeconds?: number;
  /** Latency added to every mailbox request (makes concurrency observable). Default 0. */
  latencyMs?: number;
  /** Default page size of message lists and delta. Default 10. */
  pageSize?: number;
  /**
   * Server-driven paging: the most items any page holds, whatever `$top` asked for (Graph may return fewer
   * than `$top`, and clients must follow `@odata.nextLink`). Default: none beyond `$top`.
   */
  maxPageSize?: number;
  /** Maximum subscription lifetime for Outlook resources. Default 4230 minutes. */
  maxSubscriptionMinutes?: number;
  /** How long the notification URL has to answer the validation request. Default 10 000 ms. */
  validationTimeoutMs?: number;
  /** Re-run the validation handshake when a subscription is renewed (PATCH). Default true. */
  validateOnRenew?: boolean;
  /** Refuse non-HTTPS notification URLs like real Graph. Default false (tests use http://127.0.0.1). */
  requireHttpsNotificationUrl?: boolean;
  /** Timeout of a change notification POST (Graph uses 3 s). Default 3000 ms. */
  notificationTimeoutMs?: number;
  /** Attempts and delay for notifications that fail or time out. Default 3 attempts, 500 ms apart. */
  notificationRetry?: { attempts: number; delayMs: number };
  /** SMTP sink that sendMail/reply/forward deliver to; when absent, mail only lands in Sent Items. */
  smtp?: { host: string; port: number };
  /** Deliver mail sent to another user of this fake into that user's inbox. Default true. */
  deliverInternally?: boolean;
  /**
   * Base of the absolute links the fake returns (`@odata.nextLink`, `@odata.deltaLink`). Default: the fake's own
   * `http://127.0.0.1:{port}/v1.0`. Set GRAPH_PUBLIC_BASE_URL (`https://graph.microsoft.com/v1.0`) to return links
   * like real Graph, and route them to the fake with createGraphFetch (the Graph JS SDK only treats https:// links
   * as absolute).
   */
  linkBaseUrl?: string;
  /** Sub-requests of a $batch run this many at a time (Graph dispatches up to 4). Default 4. */
  batchParallelism?: number;
}

/** A Graph-shaped error: HTTP status, OData error code and message. */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Who called: from the verified bearer token. */
export interface Principal {
  kind: "app" | "user";
  appId: string;
  tenantId: string;
  /** oid of the user (delegated) or of the service principal (app-only). */
  oid: string;
  /** Application permissions (roles) or delegated scopes (scp). */
  permissions: Set<string>;
}

/** A request after parsing, as the routes see it (also what $batch sub-requests become). */
export interface GraphRequest {
  requestId: string;
  method: string;
  /** Path after /v1.0 with OData key syntax normalised: `/users/{u}/mailFolders/inbox/messages`. */
  path: string;
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Buffer;
  principal: Principal | undefined;
  /** Id of the $batch this request belongs to. */
  batchId?: string;
}

/** A response before serialisation; `body` is JSON unless it is a Buffer or string. */
export interface GraphResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

/** Whether the caller asked for immutable ids (`Prefer: IdType="ImmutableId"`). */
export function wantsImmutableIds(req: GraphRequest): boolean {
  return /idtype\s*=\s*"?immutableid"?/i.test(req.headers.prefer ?? "");
}

/** A JSON response with Graph's usual headers. */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): GraphResponse {
  return {
    status,
    headers: {
      "content-type":
        "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8",
      ...headers,
    },
    body,
  };
}

/** Parses the JSON body of a request, or throws Graph's 400 for a malformed one. */
export function jsonBody(req: GraphRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  try {
    const parsed: unknown = JSON.parse(req.body.toString("utf8"));
    if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw new GraphError(
    400,
    "BadRequest",
    "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
  );
}
