/** Safe preview of e-mail bodies: sanitizer, plain-text rendering, sandboxed document (issue 5, DESIGN §9). */
export { ALLOWED_STYLE_PROPERTIES, SAFE_STYLE_VALUE } from "./css";
export {
  buildPreviewDocument,
  buildPreviewIframe,
  PREVIEW_IFRAME_SANDBOX,
  previewHeaderCsp,
  previewMetaCsp,
  previewResponseHeaders,
} from "./document";
export type { PreviewDocumentOptions } from "./document";
export { linksOf } from "./links";
export type { BodyLink } from "./links";
export { plainTextToSafeHtml } from "./plain-text";
export { sanitizeEmailHtml, sanitizeEmailHtmlWithReport } from "./sanitize";
export type { SanitizedEmail, SanitizeOptions, SanitizeReport } from "./sanitize";
export { domainShownInText, linkTextMismatch, safeLinkHref } from "./urls";
