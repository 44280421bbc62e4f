import { z } from "zod";
import { listOf } from "./common";
import { attachmentInfo, authResults, bodyLink, HELD_REASONS, verdictSignal } from "./held";

const isoTime = z.iso.datetime({ offset: true });

/** Orders of archive search results. */
export const ARCHIVE_SORTS = ["date", "relevance"] as const;
/** One order of archive search results. */
export type ArchiveSort = (typeof ARCHIVE_SORTS)[number];

/** One search result of GET /api/archive/search. `snippet` is plain text; the client highlights it. */
export const archiveHit = z.object({
  id: z.uuid(),
  messageId: z.string().max(998),
  from: z.string().max(998),
  to: z.array(z.string().max(998)),
  subject: z.string().max(998),
  date: isoTime,
  snippet: z.string().max(1000),
  hasAttachments: z.boolean(),
  /** The snippet as safe HTML: the mail's text escaped, matched words in `<mark>`. */
  snippetHtml: z.string().max(4000).optional(),
});
/** One archive search result. */
export type ArchiveHit = z.infer<typeof archiveHit>;

/** The page GET /api/archive/search answers. */
export const archiveHitList = listOf(archiveHit);

/** GET /api/archive/search: a page of hits, how long the search took, and how many match in all. */
export const archiveSearchResult = archiveHitList.extend({
  tookMs: z.number().nonnegative(),
  /** Exact up to 1,000 matches, the planner's estimate above (see `totalIsExact`); null on later pages. */
  estimatedTotal: z.number().int().nonnegative().nullable(),
  totalIsExact: z.boolean(),
});
/** A page of archive search results with timing and total. */
export type ArchiveSearchResult = z.infer<typeof archiveSearchResult>;

/** Whose mail a search or export reads: your own mailboxes, or all you may read with `archive.read_any` (audited). */
export const ARCHIVE_SCOPES = ["own", "all"] as const;
/** A page of archive search results. */
export type ArchiveHitList = z.infer<typeof archiveHitList>;

/**
 * Query string of GET /api/archive/search. `q` uses the archive query language (DESIGN §4); date filters
 * travel inside it as `after:YYYY-MM-DD` / `before:YYYY-MM-DD`. An empty `q` lists the newest mail.
 */
export const archiveSearchQuery = z.object({
  q: z.string().max(1000).default(""),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  sort: z.enum(ARCHIVE_SORTS).default("date"),
  scope: z.enum(ARCHIVE_SCOPES).default("own"),
});
/** Parsed archive search query. */
export type ArchiveSearchQuery = z.infer<typeof archiveSearchQuery>;
/** Archive search query as a client sends it. */
export type ArchiveSearchQueryInput = z.input<typeof archiveSearchQuery>;

/** Query string of GET /api/archive/:id; remote images stay blocked unless `images=show`. */
export const archiveDetailQuery = z.object({
  images: z.enum(["block", "show"]).default("block"),
});

/** Query string of GET /api/archive/:id/preview: the images choice and the ticket of the message's `previewUrl`. */
export const archivePreviewQuery = archiveDetailQuery.extend({
  ticket: z.string().max(2100).optional(),
});

/** States of a forward or reply sent from the archive; `refused`: Microsoft 365 will not send as the person yet. */
export const SEND_STATES = ["sending", "retrying", "sent", "refused", "failed"] as const;

/** How a forward or reply composed in the archive is getting on (GET /api/archive/:id of that message). */
export const archiveSendStatus = z.object({
  /** `queue`: Mailward's SMTP delivery queue, per recipient; `graph`: one send from the person's mailbox. */
  via: z.enum(["queue", "graph"]),
  state: z.enum(SEND_STATES),
  /** What happened, and what to do when something must be done. */
  detail: z.string().max(1000),
  recipients: z.array(
    z.object({
      address: z.string().max(320),
      state: z.enum(SEND_STATES).exclude(["refused"]),
      /** The receiving server's answer when it refused or deferred the message. */
      response: z.string().max(300).nullable(),
    }),
  ),
});
/** Sending status of an archive forward or reply. */
export type ArchiveSendStatus = z.infer<typeof archiveSendStatus>;

/** GET /api/archive/:id: one archived message, with the server-sanitized HTML body. */
export const archiveMessage = archiveHit.omit({ snippet: true }).extend({
  cc: z.array(z.string().max(998)).default([]),
  direction: z.enum(["inbound", "outbound", "internal"]),
  size: z.number().int().nonnegative(),
  html: z.string().nullable(),
  /** Where to show `html`: the preview document with its own CSP, for an `<iframe sandbox src>` (a signed URL). */
  previewUrl: z.string().max(2500).nullable().default(null),
  text: z.string().nullable(),
  remoteImagesBlocked: z.boolean().default(false),
  attachments: z.array(attachmentInfo).default([]),
  /** Links in the body with their real targets (what a link's text claims and where it really goes). */
  links: z.array(bodyLink).optional(),
  /** The stored SHA-256 of the raw message (also sent as X-Mailward-SHA256 by /raw). */
  sha256: z.string().length(64).optional(),
  inReplyTo: z.string().max(998).nullable().optional(),
  headers: z.array(z.object({ key: z.string(), value: z.string() })).optional(),
  /** The conversation by References/In-Reply-To, oldest first, only messages the caller may read. */
  thread: z
    .array(
      z.object({ id: z.uuid(), messageId: z.string(), from: z.string(), subject: z.string(), date: isoTime }),
    )
    .optional(),
  /** Set on a forward or reply composed in the archive: how its sending is going. */
  sending: archiveSendStatus.nullable().optional(),
});
/** One archived message. */
export type ArchiveMessage = z.infer<typeof archiveMessage>;

/** Body of POST /api/archive/:id/forward: send a copy of the archived message on. */
export const archiveForwardBody = z.object({
  to: z.array(z.email().max(320)).min(1).max(20),
  note: z.string().trim().max(10_000).optional(),
});
/** Body of an archive forward. */
export type ArchiveForwardBody = z.infer<typeof archiveForwardBody>;

/** Body of POST /api/archive/:id/reply. */
export const archiveReplyBody = z.object({
  text: z.string().trim().min(1).max(100_000),
  replyAll: z.boolean().default(false),
});
/** Body of an archive reply. */
export type ArchiveReplyBody = z.infer<typeof archiveReplyBody>;
/** Body of an archive reply, as a client writes it. */
export type ArchiveReplyInput = z.input<typeof archiveReplyBody>;

/** Answer of forward/reply: the outgoing message queued for delivery. */
export const archiveSendResult = z.object({
  id: z.uuid(),
  status: z.enum(["queued", "sent"]),
});
/** Outcome of a forward or reply. */
export type ArchiveSendResult = z.infer<typeof archiveSendResult>;

/** Body of POST /api/archive/export (needs `archive.export`): a query, or explicit ids. */
export const archiveExportBody = z
  .object({
    q: z.string().max(1000).optional(),
    ids: z.array(z.uuid()).min(1).max(10_000).optional(),
    /** `zip` of .eml files (default) or one mboxrd file; both end with a manifest of SHA-256 hashes. */
    format: z.enum(["zip", "mbox"]).default("zip"),
    scope: z.enum(ARCHIVE_SCOPES).default("own"),
  })
  .refine((body) => body.q !== undefined || body.ids !== undefined, { message: "Send q or ids." });
/** Body of an archive export. */
export type ArchiveExportBody = z.infer<typeof archiveExportBody>;

/** Answer of POST /api/archive/export: the export job; `downloadUrl` is set once it is ready. */
/** Query string of GET /api/archive/lookup: find the message open in Outlook by its Message-ID. */
export const archiveLookupQuery = z.object({
  messageId: z.string().trim().min(3).max(998),
});

/** Answer of GET /api/archive/lookup: how Mailward scanned that message (404 `not_found` if it never saw it). */
export const messageVerdict = z.object({
  archiveId: z.uuid(),
  messageId: z.string().max(998),
  scannedAt: isoTime,
  verdict: z.enum(["deliver", "hold", "reject"]),
  score: z.number(),
  reason: z.enum(HELD_REASONS).nullable(),
  signals: z.array(verdictSignal),
  auth: authResults,
  heldId: z.uuid().nullable(),
});
/** How Mailward scanned one message. */
export type MessageVerdict = z.infer<typeof messageVerdict>;

/** Directions a retention policy can target (`any`: every message not covered by a specific one). */
export const RETENTION_DIRECTIONS = ["inbound", "outbound", "internal", "any"] as const;

/** One retention rule: mail of this direction is purged `keepDays` after it was received. */
export const retentionPolicy = z.object({
  direction: z.enum(RETENTION_DIRECTIONS),
  keepDays: z.number().int().min(1).max(36_500),
});
/** One retention rule. */
export type RetentionPolicy = z.infer<typeof retentionPolicy>;

/** GET/PUT /api/admin/retention: the tenant's rules; an empty list keeps everything forever (the default). */
export const retentionPolicies = z.object({ policies: z.array(retentionPolicy).max(4) });
/** The tenant's retention rules. */
export type RetentionPolicies = z.infer<typeof retentionPolicies>;

/** Body of POST /api/admin/retention/purge: `dryRun` counts what would go, deleting nothing. */
export const purgeBody = z.object({ dryRun: z.boolean().default(true) });

/** What a purge removed (or, in a dry run, would remove). */
export const purgeResult = z.object({
  dryRun: z.boolean(),
  expired: z.number().int().nonnegative(),
  purged: z.number().int().nonnegative(),
  keptByLegalHold: z.number().int().nonnegative(),
  keptInUse: z.number().int().nonnegative(),
  storedBytesFreed: z.number().int().nonnegative(),
});
/** Outcome of a purge. */
export type PurgeResult = z.infer<typeof purgeResult>;

/** Body of POST /api/admin/legal-holds: hold what a query matches, or everything of a custodian (user). */
export const legalHoldBody = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("query"),
    name: z.string().trim().min(1).max(200),
    query: z.string().trim().min(1).max(1000),
  }),
  z.object({
    kind: z.literal("custodian"),
    name: z.string().trim().min(1).max(200),
    custodianUserId: z.uuid(),
  }),
]);
/** Body of a new legal hold. */
export type LegalHoldBody = z.infer<typeof legalHoldBody>;

/** A legal hold as the admin console shows it. */
export const legalHold = z.object({
  id: z.uuid(),
  name: z.string(),
  kind: z.enum(["query", "custodian"]),
  query: z.string().nullable(),
  custodianUserId: z.uuid().nullable(),
  createdAt: isoTime,
  liftedAt: isoTime.nullable(),
});
/** One legal hold. */
export type LegalHold = z.infer<typeof legalHold>;

/** Body of POST /api/admin/legal-holds/:id/lift. */
export const liftLegalHoldBody = z.object({ reason: z.string().trim().min(1).max(1000) });
