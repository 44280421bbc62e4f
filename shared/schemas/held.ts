import { z } from "zod";
import { listOf, pageQuery } from "./common";

/** Why a message was held (DESIGN §5 "held item"). */
export const HELD_REASONS = [
  "blocked_sender",
  "spam",
  "phish",
  "impersonation",
  "auth_fail",
  "dangerous_attachment",
  "policy",
] as const;
/** One reason a message was held. */
export type HeldReason = (typeof HELD_REASONS)[number];

/** Lifecycle of a held item. */
export const HELD_STATUSES = ["held", "released", "deleted", "release_requested", "expired"] as const;
/** One status of a held item. */
export type HeldStatus = (typeof HELD_STATUSES)[number];

/** The actions a person can take on a held item: POST /api/held/:id/<action>. */
export const HELD_ACTIONS = ["release", "release-and-permit", "block", "request-release", "delete"] as const;
/** One action on a held item. */
export type HeldAction = (typeof HELD_ACTIONS)[number];

/**
 * Reasons a person without `held.approve_release` may not release directly: they request a release instead (as for
 * a hold the organisation's block list made, `orgBlock`).
 */
export const REVIEW_ONLY_REASONS: readonly HeldReason[] = ["phish", "dangerous_attachment"];

/**
 * Holds only a security admin (`held.approve_release`) releases; their recipient requests a release instead: phish
 * and malware (REVIEW_ONLY_REASONS), and what the organisation's block list held (IT's decision, which neither the
 * recipient nor their team lead overrides). A hold from the recipient's own block stays theirs to release. The
 * server's policy and the add-in's fallback both ask this.
 */
export function isReviewOnlyHold(item: { reason: string; orgBlock?: boolean | undefined }): boolean {
  return (REVIEW_ONLY_REASONS as readonly string[]).includes(item.reason) || item.orgBlock === true;
}

/** An ISO-8601 timestamp as the API sends it (UTC `Z` or an explicit offset). */
const isoTime = z.iso.datetime({ offset: true });

/** One signal behind a verdict, e.g. `{ name: "dmarc_fail", score: 3.5, detail: "p=reject" }`. */
export const verdictSignal = z.object({
  name: z.string().min(1).max(100),
  score: z.number(),
  detail: z.string().max(500).optional(),
  /** The signal in plain words for a person, e.g. "The sender's domain failed DMARC". */
  label: z.string().max(500).optional(),
});
/** One signal behind a verdict. */
export type VerdictSignal = z.infer<typeof verdictSignal>;

/** A held message as listed by GET /api/held (one row per recipient). */
export const heldItem = z.object({
  id: z.uuid(),
  from: z.string().max(998),
  to: z.string().max(998),
  subject: z.string().max(998),
  receivedAt: isoTime,
  reason: z.enum(HELD_REASONS),
  status: z.enum(HELD_STATUSES),
  expiresAt: isoTime,
  score: z.number(),
  signals: z.array(verdictSignal).optional(),
  /** Sent to a group the caller is in (`to` is the group's address, e.g. support@): theirs to release, like their own. */
  toGroup: z.boolean().optional(),
  /** Held by the organisation's block list: only a security admin releases it; its recipient requests a release. */
  orgBlock: z.boolean().optional(),
  /** The actions the caller may take on this item now (the add-in shows only these). */
  actions: z.array(z.enum(HELD_ACTIONS)).optional(),
});
/** A held message in a list. */
export type HeldItem = z.infer<typeof heldItem>;

/** The page GET /api/held answers. */
export const heldList = listOf(heldItem);
/** A page of held messages. */
export type HeldList = z.infer<typeof heldList>;

/** Orders GET /api/held can sort by; each pages with its own keyset cursor. */
export const HELD_SORTS = ["newest", "oldest", "expiring", "score"] as const;
/** One sort order of the held list. */
export type HeldSort = (typeof HELD_SORTS)[number];

/**
 * Whose holds to list: `mine`, `team` (a team lead's team, without their own) or `review` (a security admin's
 * view of the whole tenant). Without it: your own plus, for a team lead, your team's.
 */
export const HELD_SCOPES = ["mine", "team", "review"] as const;

/**
 * Query string of GET /api/held. `sender` matches an address or domain; `recipient` an address (whose);
 * `q` searches subject and sender;
 * `receivedAfter`/`receivedBefore` bound when the message was held.
 */
export const heldListQuery = pageQuery.extend({
  status: z.enum(HELD_STATUSES).optional(),
  reason: z.enum(HELD_REASONS).optional(),
  sender: z.string().trim().min(1).max(320).optional(),
  /** Whose: a person's address or alias (all their holds) or a group's address; for the team and review scopes. */
  recipient: z
    .string()
    .trim()
    .min(3)
    .max(320)
    .regex(/^[^@\s]+@[^@\s]+$/, "an email address")
    .optional(),
  q: z.string().trim().min(1).max(200).optional(),
  receivedAfter: isoTime.optional(),
  receivedBefore: isoTime.optional(),
  sort: z.enum(HELD_SORTS).default("newest"),
  scope: z.enum(HELD_SCOPES).optional(),
});
/** Parsed query of GET /api/held (after defaults). */
export type HeldListQuery = z.infer<typeof heldListQuery>;
/** Query of GET /api/held as a client sends it (defaults optional). */
export type HeldListQueryInput = z.input<typeof heldListQuery>;

/** How far GET /api/held/count counts: a tab's badge shows "99+" past it, so counting on would be work for nothing. */
export const HELD_COUNT_CAP = 100;

/** Query of GET /api/held/count: the list's filters, without its paging and order. */
export const heldCountQuery = heldListQuery.omit({ cursor: true, limit: true, sort: true });
/** Query of GET /api/held/count as a client sends it. */
export type HeldCountQueryInput = z.input<typeof heldCountQuery>;

/**
 * GET /api/held/count and GET /api/admin/held/requests/count answer: how many the list would show, up to
 * HELD_COUNT_CAP, and whether there are more.
 */
export const heldCount = z.object({
  count: z.number().int().min(0).max(HELD_COUNT_CAP),
  more: z.boolean(),
});
/** Parsed GET /api/held/count answer. */
export type HeldCount = z.infer<typeof heldCount>;

/** Query string of GET /api/held/:id. Remote images stay blocked unless `images=show` (DESIGN §9). */
export const heldDetailQuery = z.object({
  images: z.preprocess(
    (value) =>
      value === "1" || value === "true" ? "show" : value === "0" || value === "false" ? "block" : value,
    z.enum(["block", "show"]).default("block"),
  ),
});

/**
 * Query string of GET /api/held/:id/preview: the images choice and, for a frame that can send no credential, the
 * ticket of the detail's `previewUrl`.
 */
export const heldPreviewQuery = heldDetailQuery.extend({
  ticket: z.string().max(2100).optional(),
});

/** One attachment of a message, without its content. */
export const attachmentInfo = z.object({
  filename: z.string().max(1000),
  contentType: z.string().max(255),
  size: z.number().int().nonnegative(),
});
/** One attachment of a message. */
export type AttachmentInfo = z.infer<typeof attachmentInfo>;

/** SPF/DKIM/DMARC/ARC results as `mailauth` reports them (`pass`, `fail`, `none`, `temperror`, ...). */
export const authResults = z.object({
  spf: z.string().max(40),
  dkim: z.string().max(40),
  dmarc: z.string().max(40),
  arc: z.string().max(40).optional(),
});
/** Authentication results of one message. */
export type AuthResults = z.infer<typeof authResults>;

/** A link in a message body: the text it shows and where it really goes (the preview frame opens no link). */
export const bodyLink = z.object({ text: z.string().max(2000), href: z.string().max(4000) });
/** One link of a message body with its real target. */
export type BodyLink = z.infer<typeof bodyLink>;

/** GET /api/held/:id: the list item plus the server-sanitized body for the preview iframe. */
export const heldDetail = heldItem.extend({
  messageId: z.string().max(998),
  cc: z.array(z.string().max(998)).default([]),
  signals: z.array(verdictSignal),
  auth: authResults.optional(),
  /** Sanitized HTML (no scripts, no event handlers, remote images removed unless requested), or null for text-only mail. */
  html: z.string().nullable(),
  /**
   * Where to show `html`: the preview document with its own CSP, for an `<iframe sandbox src>` (a signed URL that
   * works for a few minutes, for this person only); null for text-only mail.
   */
  previewUrl: z.string().max(2500).nullable().default(null),
  text: z.string().nullable(),
  /** True when the sanitizer removed remote images that `images=show` would keep. */
  remoteImagesBlocked: z.boolean().default(false),
  attachments: z.array(attachmentInfo).default([]),
  /** Why the engine decided as it did, in one sentence. */
  explanation: z.string().max(2000).optional(),
  /** The message's header lines as received (name, value), for the "headers" view. */
  headers: z.array(z.object({ name: z.string().max(998), value: z.string().max(20_000) })).optional(),
  /** Links in the body with their real targets (what a link's text claims and where it really goes). */
  links: z.array(bodyLink).optional(),
  /** A pending or decided release request for a hold only a security admin releases (phish, malware, an organisation block). */
  releaseRequest: z
    .object({
      status: z.enum(["pending", "approved", "denied", "expired"]),
      createdAt: isoTime,
      note: z.string().nullable(),
    })
    .nullable()
    .optional(),
});
/** A held message with its preview. */
export type HeldDetail = z.infer<typeof heldDetail>;

/** Body of POST /api/held/:id/<action>; `note` explains a request-release to the reviewer. */
export const heldActionBody = z.object({
  note: z.string().trim().max(1000).optional(),
});
/** Body of one held action. */
export type HeldActionBody = z.infer<typeof heldActionBody>;

/** Answer of POST /api/held/:id/<action>: the item as it is now. */
export const heldActionResult = heldItem;

/** Body of POST /api/held/bulk. */
export const heldBulkBody = z.object({
  ids: z
    .array(z.uuid())
    .min(1)
    .max(500)
    .refine((ids) => new Set(ids).size === ids.length, "ids must be unique"),
  action: z.enum(HELD_ACTIONS),
  note: z.string().trim().max(1000).optional(),
});
/** Body of a bulk held action. */
export type HeldBulkBody = z.infer<typeof heldBulkBody>;

/** Answer of POST /api/held/bulk: one outcome per id, in request order; `error` is a stable id from shared/errors. */
export const heldBulkResult = z.object({
  results: z.array(
    z.object({
      id: z.uuid(),
      ok: z.boolean(),
      status: z.enum(HELD_STATUSES).optional(),
      error: z.string().optional(),
    }),
  ),
});
/** Outcome of a bulk held action. */
export type HeldBulkResult = z.infer<typeof heldBulkResult>;

/** Body of POST /api/admin/held/:id/approve|deny: a note for the requester. */
export const releaseDecisionBody = z.object({
  note: z.string().trim().max(1000).optional(),
});
/** Body of a release decision. */
export type ReleaseDecisionBody = z.infer<typeof releaseDecisionBody>;

/** A release request in a security admin's queue (GET /api/admin/held/requests). */
export const releaseRequestItem = z.object({
  id: z.uuid(),
  heldId: z.uuid(),
  requester: z.string(),
  note: z.string().nullable(),
  status: z.enum(["pending", "approved", "denied", "expired"]),
  createdAt: isoTime,
  held: heldItem,
});
/** One release request. */
export type ReleaseRequestItem = z.infer<typeof releaseRequestItem>;

/** The page GET /api/admin/held/requests answers. */
export const releaseRequestList = listOf(releaseRequestItem);

/** Query of GET /api/admin/held/requests. */
export const releaseRequestQuery = pageQuery.extend({
  status: z.enum(["pending", "approved", "denied", "expired"]).default("pending"),
});
/** Query of GET /api/admin/held/requests/count: the list's status, without its paging. */
export const releaseRequestCountQuery = releaseRequestQuery.pick({ status: true });
