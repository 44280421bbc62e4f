import { z } from "zod";

const isoTime = z.iso.datetime({ offset: true });

/** What a person says a message is. */
export const REPORT_KINDS = ["phish", "spam", "not_spam"] as const;
/** The kind of a report. */
export type ReportKind = (typeof REPORT_KINDS)[number];

/** Triage state of a report. */
export const REPORT_STATUSES = ["received", "triaged", "dismissed"] as const;
/** The triage state of a report. */
export type ReportStatus = (typeof REPORT_STATUSES)[number];

/** Largest EML accepted inline: 25 MB of MIME is at most 35 MB of base64. */
export const MAX_REPORT_EML_BASE64_CHARS = 35_000_000;

/**
 * Body of POST /api/reports. Outlook sends `internetMessageId` (e.g. `<abc@host>`) and, where Mailbox 1.14
 * `getAsFileAsync` exists, the message as base64 EML. `block` also adds a personal block rule for the sender.
 */
export const createReportBody = z
  .object({
    kind: z.enum(REPORT_KINDS),
    internetMessageId: z.string().trim().min(3).max(998).optional(),
    eml: z.base64().max(MAX_REPORT_EML_BASE64_CHARS).optional(),
    note: z.string().trim().max(2000).optional(),
    block: z.boolean().optional(),
  })
  .refine((body) => body.internetMessageId !== undefined || body.eml !== undefined, {
    message: "Send internetMessageId, eml, or both.",
    path: ["internetMessageId"],
  });
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
});
/** A report as the API returns it. */
export type ReportResult = z.infer<typeof reportResult>;
