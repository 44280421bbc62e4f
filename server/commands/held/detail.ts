import type { Kysely } from "kysely";
import type { Attachment, ParsedMail } from "mailparser";
import type { Database } from "../../db/schema";
import { parseMessage } from "../../archive/parse";
import { readRawMessage } from "../../archive/store";
import {
  linksOf,
  plainTextToSafeHtml,
  sanitizeEmailHtmlWithReport,
  type BodyLink,
} from "../../preview/index";
import type { AttachmentInfo, AuthResults } from "../../../shared/schemas/held";
import type { HeldRow } from "./queries";
import { readStoredVerdict, type StoredVerdict } from "../../archive/stored-verdict";

/** Everything the detail view shows beyond the list item. */
export interface HeldPreview {
  internetMessageId: string | null;
  cc: string[];
  auth: AuthResults | null;
  /** The sanitized HTML body; null for text-only mail. */
  html: string | null;
  /** What /preview serves inside its document: the sanitized HTML body, or the plain text made safe HTML. */
  bodyHtml: string | null;
  text: string | null;
  remoteImagesBlocked: boolean;
  attachments: AttachmentInfo[];
  explanation: string | null;
  headers: Array<{ name: string; value: string }>;
  links: BodyLink[];
  releaseRequest: {
    status: "pending" | "approved" | "denied" | "expired";
    createdAt: string;
    note: string | null;
  } | null;
}

const INLINE_IMAGE = /^image\/(png|jpeg|gif|webp|bmp)$/i;
const MAX_INLINE_IMAGE = 2 * 1024 * 1024;
const AUTH_VALUE = /^[a-z]{2,12}$/;

/** SPF/DKIM/DMARC/ARC from the stored assessment, else from the Authentication-Results header. */
export function authResultsOf(
  verdict: StoredVerdict,
  headers: Array<{ key: string; value: string }>,
): AuthResults | null {
  const { spf, dkim, dmarc, arc } = verdict.auth;
  if (spf !== null && dkim !== null && dmarc !== null) {
    return {
      spf: spf.slice(0, 40),
      dkim: dkim.slice(0, 40),
      dmarc: dmarc.slice(0, 40),
      ...(arc !== null ? { arc: arc.slice(0, 40) } : {}),
    };
  }
  const header = headers.find((h) => h.key.toLowerCase() === "authentication-results")?.value;
  if (!header) return null;
  const find = (method: string) => {
    const match = new RegExp(`\\b${method}=([a-z]+)`, "i").exec(header)?.[1]?.toLowerCase();
    return match && AUTH_VALUE.test(match) ? match : "none";
  };
  return { spf: find("spf"), dkim: find("dkim"), dmarc: find("dmarc"), arc: find("arc") };
}

/** The engine's one-sentence explanation of this recipient's verdict. */
function explanationOf(verdict: StoredVerdict, recipient: string): string | null {
  const mine = verdict.decisions.find(
    (d) => d.recipient === recipient.toLowerCase() && d.explanation !== null,
  );
  return (mine?.explanation ?? verdict.summary)?.slice(0, 2000) ?? null;
}

/** The normalised Content-ID of an attachment (no angle brackets, lower case), or null. */
function contentIdKey(contentId: string | undefined): string | null {
  const id = contentId?.replace(/^<|>$/g, "").toLowerCase();
  return id ? id : null;
}

/**
 * The attachments to list: all but the inline images the preview embedded (`shown`, the parts themselves, so
 * an executable that borrows an embedded image's Content-ID stays listed). A part the mail merely calls
 * inline (an executable with a Content-ID) stays listed too: the preview never shows it.
 */
function attachmentsOf(parsed: ParsedMail | null, shown: ReadonlySet<Attachment>): AttachmentInfo[] {
  return (parsed?.attachments ?? [])
    .filter((a) => !shown.has(a))
    .slice(0, 200)
    .map((a) => ({
      filename: (a.filename ?? "(unnamed)").slice(0, 1000),
      contentType: (a.contentType || "application/octet-stream").slice(0, 255),
      size: a.size ?? a.content.length,
    }));
}

/** Resolves `cid:` images to data URIs and records in `shown` the parts it embedded. */
function cidResolverOf(
  parsed: ParsedMail | null,
  shown: Set<Attachment>,
): (contentId: string) => string | null {
  const images = new Map<string, Attachment>();
  for (const a of parsed?.attachments ?? []) {
    const id = contentIdKey(a.contentId);
    if (id && !images.has(id) && INLINE_IMAGE.test(a.contentType) && a.content.length <= MAX_INLINE_IMAGE) {
      images.set(id, a);
    }
  }
  return (contentId) => {
    const id = contentIdKey(contentId);
    const image = id === null ? undefined : images.get(id);
    if (image === undefined) return null;
    shown.add(image);
    return `data:${image.contentType.toLowerCase()};base64,${image.content.toString("base64")}`;
  };
}

/** A header's value without the "Name:" prefix the archive keeps, unfolded onto one line. */
function headerValueOf(name: string, line: string): string {
  const prefix = `${name.toLowerCase()}:`;
  const value = line.toLowerCase().startsWith(prefix) ? line.slice(prefix.length) : line;
  return value.replace(/\r?\n[ \t]+/g, " ").trim();
}

/**
 * Builds the safe preview of a held message: the HTML body sanitized on the
 * server (remote images blocked unless asked for, links rewritten to show
 * their real target, inline `cid:` images embedded), for the preview route to
 * serve in its CSP'd document; plus headers, authentication results and attachments.
 */
export async function loadHeldPreview(
  db: Kysely<Database>,
  row: HeldRow,
  options: { allowRemoteImages: boolean },
): Promise<HeldPreview> {
  const message = await db
    .selectFrom("messages")
    .select(["sha256", "message_id", "cc_addresses", "headers", "body_text", "assessment"])
    .where("id", "=", row.message_id)
    .executeTakeFirstOrThrow();
  const raw = await readRawMessage(db, row.tenant_id, message.sha256);
  const parsed = raw ? await parseMessage(raw) : null;
  const verdict = readStoredVerdict(message.assessment);
  const headers = Array.isArray(message.headers) ? message.headers : [];
  let html: string | null = null;
  let bodyHtml: string | null = null;
  let remoteImagesBlocked = false;
  let links: BodyLink[] = [];
  const sourceHtml = typeof parsed?.html === "string" ? parsed.html : null;
  const shownInline = new Set<Attachment>();
  if (sourceHtml) {
    const sanitized = sanitizeEmailHtmlWithReport(sourceHtml, {
      allowRemoteImages: options.allowRemoteImages,
      cidResolver: cidResolverOf(parsed, shownInline),
    });
    bodyHtml = sanitized.html;
    html = sanitized.html;
    remoteImagesBlocked = sanitized.report.blockedRemoteImages > 0;
    links = linksOf(sanitized.html);
  } else if (message.body_text) {
    bodyHtml = plainTextToSafeHtml(message.body_text);
  }
  const request = await db
    .selectFrom("release_requests")
    .select(["status", "created_at", "note"])
    .where("held_item_id", "=", row.id)
    .orderBy("created_at", "desc")
    .executeTakeFirst();
  return {
    internetMessageId: message.message_id,
    cc: message.cc_addresses,
    auth: authResultsOf(verdict, headers),
    html,
    bodyHtml,
    text: message.body_text || null,
    remoteImagesBlocked,
    attachments: attachmentsOf(parsed, shownInline),
    explanation: explanationOf(verdict, row.recipient),
    headers: headers.slice(0, 300).map((h) => ({
      name: String(h.key).slice(0, 998),
      value: headerValueOf(String(h.key), String(h.value)).slice(0, 20_000),
    })),
    links,
    releaseRequest: request
      ? { status: request.status, createdAt: new Date(request.created_at).toISOString(), note: request.note }
      : null,
  };
}
