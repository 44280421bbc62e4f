import { z } from "zod";
import { listOf, pageQuery } from "./common";

const isoTime = z.iso.datetime({ offset: true });

/** What a person says a message is. */
export const REPORT_KINDS = ["phish", "spam", "not_spam"] as const;
/** The kind of a report. */
export type ReportKind = (typeof REPORT_KINDS)[number];

/** Triage state of a report. */
export const REPORT_STATUSES = ["received", "triaged", "dismissed", "undone"] as const;
/** The triage state of a report. */
export type ReportStatus = (typeof REPORT_STATUSES)[number];

/** Largest EML accepted inline: 25 MB of MIME is at most 35 MB of base64. */
export const MAX_REPORT_EML_BASE64_CHARS = 35_000_000;

/**
 * Body of POST /api/reports. Outlook sends `internetMessageId` (e.g. `<abc@host>`) and, where Mailbox 1.14
 * `getAsFileAsync` exists, the message as base64 EML. `block` also adds a personal block rule for the sender.
 * The server needs at least one way to find the message: `internetMessageId`, `restId` or `eml`.
 */
export const createReportBody = z
  .object({
    kind: z.enum(REPORT_KINDS),
    internetMessageId: z.string().trim().min(3).max(998).optional(),
    /** Outlook's REST (Graph) id of the item, URL-encoded (`convertToRestId` v2.0): lets the server fetch the MIME. */
    restId: z.string().min(1).max(2000).optional(),
    eml: z.base64().max(MAX_REPORT_EML_BASE64_CHARS).optional(),
    note: z.string().trim().max(2000).optional(),
    block: z.boolean().optional(),
  })
  .refine(
    (body) => body.internetMessageId !== undefined || body.eml !== undefined || body.restId !== undefined,
    {
      message: "Send internetMessageId, restId or eml (or several).",
      path: ["internetMessageId"],
    },
  );
/** Body that creates a report (parsed). */
export type CreateReportBody = z.infer<typeof createReportBody>;
/** Body that creates a report, as a client writes it. */
export type CreateReportInput = z.input<typeof createReportBody>;

/**
 * Answer of POST /api/reports (201). Until `undoUntil` the reporter may take it back with
 * DELETE /api/reports/:id (204; afterwards 410 `expired`). `blockedRuleId` is the rule `block: true` created.
 */
export const reportResult = z.object({
  id: z.uuid(),
  kind: z.enum(REPORT_KINDS),
  status: z.enum(REPORT_STATUSES),
  createdAt: isoTime,
  undoUntil: isoTime,
  /** True when the reported message was found in the archive (by Message-ID or from the EML). */
  messageFound: z.boolean(),
  blockedRuleId: z.uuid().nullable(),
  /** What the security team concluded, once triaged ("closing the loop"). */
  outcome: z.string().nullable().optional(),
  /** True when someone else had already reported the same message (the reports were merged for triage). */
  merged: z.boolean().optional(),
});
/** A report as the API returns it. */
export type ReportResult = z.infer<typeof reportResult>;

/** The page GET /api/reports answers: the caller's own reports with their outcome. */
export const reportList = listOf(reportResult);

/** Query of GET /api/reports. */
export const reportListQuery = pageQuery;

/** Triage states as the security team's queue filters them. */
export const TRIAGE_STATUSES = ["open", "confirmed", "dismissed"] as const;

/** One entry of the triage queue: a message and everyone who reported it (duplicates merged). */
export const triageItem = z.object({
  id: z.uuid(),
  kind: z.enum(REPORT_KINDS),
  status: z.enum(TRIAGE_STATUSES),
  createdAt: isoTime,
  reporters: z.array(z.string()),
  reportCount: z.number().int().positive(),
  notes: z.array(z.string()),
  message: z
    .object({
      id: z.uuid(),
      from: z.string(),
      subject: z.string(),
      date: isoTime,
      messageId: z.string().nullable(),
    })
    .nullable(),
  internetMessageId: z.string().nullable(),
  outcome: z.string().nullable(),
});
/** A triage queue entry. */
export type TriageItem = z.infer<typeof triageItem>;

/** The page GET /api/admin/reports answers. */
export const triageList = listOf(triageItem);

/** Query of GET /api/admin/reports. */
export const triageListQuery = pageQuery.extend({
  status: z.enum(TRIAGE_STATUSES).default("open"),
  kind: z.enum(REPORT_KINDS).optional(),
});

/** Body of POST /api/admin/reports/:id/confirm|dismiss: what to tell the reporters; confirm may block the sender org-wide. */
export const triageDecisionBody = z.object({
  outcome: z.string().trim().max(1000).optional(),
  blockSender: z.boolean().optional(),
});
/** Body of a triage decision. */
export type TriageDecisionBody = z.infer<typeof triageDecisionBody>;
