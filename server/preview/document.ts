import { OFFICE_FRAME_ANCESTORS } from "../http/frame-ancestors";

/**
 * The document and headers a sanitized preview is shown with. Layers: the sanitizer removes every script
 * vector; the iframe `sandbox` (no allow-scripts, no allow-same-origin) stops script and gives the
 * preview an opaque origin; the CSP blocks every fetch except inline images (and https images when the
 * user asked). Any one layer failing alone still leaves no script running and no request leaving.
 */

/** Per preview: whether the user asked to show remote images. */
export interface PreviewDocumentOptions {
  allowRemoteImages?: boolean;
}

/**
 * The `sandbox` attribute for the preview iframe, and the tokens of the preview's `sandbox` CSP directive: none.
 * No scripts, no same-origin (an opaque origin), no forms, modals, popups or top navigation. Links in the
 * preview therefore open nothing: the sanitizer gives each `target="_blank"`, which a frame without
 * `allow-popups` may not open, so a click on a lure in a held message goes nowhere. Where a link really goes is
 * shown beside the preview as text (the detail's `links`), for the person to judge and copy if they must.
 */
export const PREVIEW_IFRAME_SANDBOX = "";

function cspDirectives(options: PreviewDocumentOptions): string[] {
  return [
    "default-src 'none'",
    `img-src data: cid:${options.allowRemoteImages ? " https:" : ""}`,
    "style-src 'unsafe-inline'",
    "base-uri 'none'",
    "form-action 'none'",
  ];
}

/**
 * The CSP for the document's `<meta>`, so the policy travels with the document (under the header's, both hold).
 * `frame-ancestors` and `sandbox` are left out: browsers ignore both in a meta element (and log an error); they
 * belong in the HTTP header variant.
 */
export function previewMetaCsp(options: PreviewDocumentOptions = {}): string {
  return cspDirectives(options).join("; ");
}

/**
 * The CSP header of a preview served from its own URL (how the add-in and portal show it). A document loaded
 * from a URL keeps its own policy, where a srcdoc document would inherit the app's (whose `img-src` never allows
 * https, so "Show images" could not work). It may be framed only where the task pane may be (every ancestor
 * counts), and `sandbox` makes it an opaque-origin, script-less document even when opened on its own.
 */
export function previewHeaderCsp(options: PreviewDocumentOptions = {}): string {
  const ancestors = `frame-ancestors ${OFFICE_FRAME_ANCESTORS.join(" ")}`;
  return [...cspDirectives(options), ancestors, `sandbox ${PREVIEW_IFRAME_SANDBOX}`.trim()].join("; ");
}

/**
 * Response headers for a preview served from a URL (GET /api/held/:id/preview, /api/archive/:id/preview). No
 * X-Frame-Options: SAMEORIGIN would refuse the task pane inside Outlook, and `frame-ancestors` decides anyway.
 */
export function previewResponseHeaders(options: PreviewDocumentOptions = {}): Record<string, string> {
  return {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": previewHeaderCsp(options),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
  };
}

/** Presentation of the preview: readable defaults, image placeholders, flagged links. */
const PREVIEW_STYLE = [
  "html,body{margin:0;padding:0;background:#fff;color:#242424}",
  "body{padding:12px;font:14px/1.45 -apple-system,'Segoe UI',system-ui,sans-serif;overflow-wrap:anywhere}",
  "img{max-width:100%;height:auto}",
  "img[data-mw-blocked]{display:inline-block;min-width:24px;min-height:24px;border:1px dashed #8a8886;background:#f3f2f1}",
  "a[data-mw-mismatch]{outline:2px solid #d13438;outline-offset:1px}",
  "table{max-width:100%}",
].join("");

function escapeAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * A complete HTML document around sanitizer output, served by the preview routes (and usable as an srcdoc on a
 * page without a CSP of its own). The CSP meta comes first in <head>, before anything the mail contributed.
 * Pass only `sanitizeEmailHtml` output.
 */
export function buildPreviewDocument(sanitizedHtml: string, options: PreviewDocumentOptions = {}): string {
  return [
    "<!DOCTYPE html>",
    '<html><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeAttribute(previewMetaCsp(options))}">`,
    '<meta name="referrer" content="no-referrer">',
    '<meta name="color-scheme" content="light">',
    `<style>${PREVIEW_STYLE}</style>`,
    `</head><body>${sanitizedHtml}</body></html>`,
  ].join("");
}

/**
 * The page a preview frame (or any route that answers HTML) shows for an error: an expired ticket, a message no
 * longer there. The frame cannot read a JSON body to say what went wrong, so the person reads the error's message
 * itself; the stable error id travels as the page's `data-error`. Served under the preview's own headers.
 */
export function buildErrorDocument(errorId: string, message: string): string {
  return buildPreviewDocument(
    `<p role="alert" data-error="${escapeAttribute(errorId)}" style="color:#605e5c">${escapeAttribute(message)}</p>`,
  );
}

/** The iframe element as HTML (server-rendered pages; React sets `sandbox`/`srcDoc` props instead). */
export function buildPreviewIframe(documentHtml: string, title = "Message preview"): string {
  return `<iframe sandbox="${PREVIEW_IFRAME_SANDBOX}" referrerpolicy="no-referrer" title="${escapeAttribute(title)}" srcdoc="${escapeAttribute(documentHtml)}"></iframe>`;
}
