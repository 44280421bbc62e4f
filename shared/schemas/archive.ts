import { z } from "zod";
import { listOf } from "./common";
import { attachmentInfo, authResults, HELD_REASONS, verdictSignal } from "./held";

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
});
/** One archive search result. */
export type ArchiveHit = z.infer<typeof archiveHit>;

/** The page GET /api/archive/search answers. */
export const archiveHitList = listOf(archiveHit);
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
  sort: z.enum(ARCHIVE_SORTS).default("relevance"),
});
/** Parsed archive search query. */
export type ArchiveSearchQuery = z.infer<typeof archiveSearchQuery>;
/** Archive search query as a client sends it. */
export type ArchiveSearchQueryInput = z.input<typeof archiveSearchQuery>;

/** Query string of GET /api/archive/:id; remote images stay blocked unless `images=show`. */
export const archiveDetailQuery = z.object({
  images: z.enum(["block", "show"]).default("block"),
});

/** GET /api/archive/:id: one archived message, with the server-sanitized HTML body. */
export const archiveMessage = archiveHit.omit({ snippet: true }).extend({
  cc: z.array(z.string().max(998)).default([]),
  direction: z.enum(["inbound", "outbound"]),
  size: z.number().int().nonnegative(),
  html: z.string().nullable(),
  text: z.string().nullable(),
  remoteImagesBlocked: z.boolean().default(false),
  attachments: z.array(attachmentInfo).default([]),
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
  })
  .refine((body) => body.q !== undefined || body.ids !== undefined, { message: "Send q or ids." });
/** Body of an archive export. */
export type ArchiveExportBody = z.infer<typeof archiveExportBody>;

/** Answer of POST /api/archive/export: the export job; `downloadUrl` is set once it is ready. */
export const archiveExportResult = z.object({
  id: z.uuid(),
  status: z.enum(["queued", "running", "ready", "failed"]),
  downloadUrl: z.string().nullable(),
});
/** An archive export job. */
export type ArchiveExportResult = z.infer<typeof archiveExportResult>;

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
