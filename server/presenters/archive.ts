import type { ArchiveHit, ArchiveMessage, ArchiveSearchResult } from "../../shared/schemas/archive";
import type { SearchPage, SearchRow } from "../archive/search";
import { snippetToHtml, snippetToPlainText } from "../archive/query";
import { displayAddress } from "./addresses";
import type { ArchivedMessageView } from "../commands/archive/view-message";

/** "Name <address>", or the address, as `displayAddress` shows it (domains in Unicode when they read unambiguously). */
function address(name: string, email: string): string {
  return name ? `${name} <${displayAddress(email)}>` : displayAddress(email);
}

/** One search hit as the API contract (DESIGN §4) shapes it: plain snippet plus an escaped, highlighted one. */
export function presentHit(row: SearchRow): ArchiveHit {
  return {
    id: row.id,
    messageId: (row.messageId ?? "").slice(0, 998),
    from: address(row.fromName, row.fromAddress).slice(0, 998),
    to: row.to.map((t) => displayAddress(t).slice(0, 998)),
    subject: row.subject.slice(0, 998),
    date: row.date.toISOString(),
    // Cut to the contract's lengths between characters: never inside an entity, a <mark> or an emoji.
    snippet: snippetToPlainText(row.snippetRaw, 1000),
    snippetHtml: snippetToHtml(row.snippetRaw, 4000),
    hasAttachments: row.hasAttachments,
  };
}

/** A page of search results with the time it took and the (estimated) total. */
export function presentSearchPage(page: SearchPage): ArchiveSearchResult {
  return {
    items: page.rows.map(presentHit),
    nextCursor: page.nextCursor,
    tookMs: page.tookMs,
    estimatedTotal: page.estimatedTotal < 0 ? null : page.estimatedTotal,
    totalIsExact: page.totalIsExact,
  };
}

/** GET /api/archive/:id (`previewUrl`: where the frame loads the preview, with the actor's ticket). */
export function presentArchivedMessage(view: ArchivedMessageView, previewUrl: string | null): ArchiveMessage {
  const m = view.message;
  return {
    id: m.id,
    messageId: (m.message_id ?? "").slice(0, 998),
    from: address(m.from_name, m.from_address).slice(0, 998),
    to: m.to_addresses.map((t) => displayAddress(t).slice(0, 998)),
    cc: m.cc_addresses.map((t) => displayAddress(t).slice(0, 998)),
    subject: m.subject.slice(0, 998),
    date: new Date(m.date).toISOString(),
    hasAttachments: m.has_attachments,
    direction: m.direction,
    size: m.size,
    html: view.html,
    previewUrl,
    text: view.text,
    remoteImagesBlocked: view.remoteImagesBlocked,
    attachments: view.attachments.map((a) => ({
      filename: a.filename.slice(0, 1000),
      contentType: a.contentType.slice(0, 255),
      size: a.size,
    })),
    links: view.links,
    sha256: m.sha256,
    inReplyTo: m.in_reply_to,
    headers: m.headers,
    thread: view.thread.map((t) => ({
      id: t.id,
      messageId: t.messageId,
      from: displayAddress(t.from),
      subject: t.subject,
      date: t.date.toISOString(),
    })),
    sending: view.sending,
  };
}
