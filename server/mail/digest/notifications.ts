import type { Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { escapeHtml, queueSystemMail } from "./outbound";

/** The person to tell and the message the notice is about. */
export interface NoticeSubject {
  tenantId: string;
  to: string;
  messageSubject: string;
  messageFrom: string;
}

function page(paragraphs: string[]): string {
  const body = paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`).join("\n");
  return `<!doctype html><html><body style="font-family:Segoe UI,Arial,sans-serif;font-size:14px;color:#222">${body}<p style="color:#666;font-size:12px">Mailward, your organisation's email security.</p></body></html>`;
}

async function send(
  trx: Transaction<Database>,
  who: Pick<NoticeSubject, "tenantId" | "to">,
  subject: string,
  paragraphs: string[],
  now: Date,
): Promise<string> {
  return queueSystemMail(
    trx,
    {
      tenantId: who.tenantId,
      to: who.to,
      subject,
      text: `${paragraphs.join("\n\n")}\n`,
      html: page(paragraphs),
      purpose: "notification",
    },
    now,
  );
}

/** Tells a requester the security team's decision on their release request. */
export async function queueReleaseDecisionNotice(
  trx: Transaction<Database>,
  who: NoticeSubject,
  decision: "approved" | "denied",
  note: string | null,
  now: Date,
): Promise<string> {
  const about = `"${who.messageSubject || "(no subject)"}" from ${who.messageFrom || "an unknown sender"}`;
  const paragraphs =
    decision === "approved"
      ? [
          `Your request to release ${about} was approved by your security team.`,
          "The message is on its way to your inbox.",
        ]
      : [
          `Your request to release ${about} was declined by your security team.`,
          "The message stays in quarantine, because it was judged unsafe.",
        ];
  if (note) paragraphs.push(`Note from the security team: ${note}`);
  return send(
    trx,
    who,
    decision === "approved" ? "Release request approved" : "Release request declined",
    paragraphs,
    now,
  );
}

/** Tells a reporter what the security team concluded about the message they reported ("closing the loop"). */
export async function queueReportOutcomeNotice(
  trx: Transaction<Database>,
  who: NoticeSubject,
  input: { kind: string; decision: "confirmed" | "dismissed"; outcome: string | null },
  now: Date,
): Promise<string> {
  const about = `"${who.messageSubject || "(no subject)"}" from ${who.messageFrom || "an unknown sender"}`;
  const what = input.kind === "phish" ? "phishing" : input.kind === "spam" ? "spam" : "not spam";
  const paragraphs =
    input.decision === "confirmed"
      ? [
          `Thank you for reporting ${about} as ${what}.`,
          `Your security team reviewed it and agrees. It has been dealt with.`,
        ]
      : [
          `Thank you for reporting ${about} as ${what}.`,
          `Your security team reviewed it and concluded that it is not ${what}. No further action was taken.`,
        ];
  if (input.outcome) paragraphs.push(`Note from the security team: ${input.outcome}`);
  return send(
    trx,
    who,
    `Your report: ${input.decision === "confirmed" ? "confirmed" : "reviewed"}`,
    paragraphs,
    now,
  );
}

/**
 * Tells a person that an SMTP password was made for their account: whoever holds a stolen session could
 * make one and send as them for as long as it lasts, so the owner hears of it at once and can revoke it.
 */
export async function queueSmtpPasswordNotice(
  trx: Transaction<Database>,
  who: Pick<NoticeSubject, "tenantId" | "to">,
  label: string,
  now: Date,
): Promise<string> {
  return send(
    trx,
    who,
    "A new SMTP password for your account",
    [
      `An SMTP password named "${label}" was created for your account on ${now.toUTCString()}.`,
      "Apps and devices can now send mail as you through Mailward with it.",
      "If you did not create it, revoke it in Mailward under Settings → SMTP passwords, and tell your security team.",
    ],
    now,
  );
}
