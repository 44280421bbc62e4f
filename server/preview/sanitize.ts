import { randomUUID } from "node:crypto";
import sanitizeHtml from "sanitize-html";
import { allowedStyles } from "./css";
import { linkTextMismatch } from "./urls";
import {
  DROP_ATTRIBUTE,
  imageTransform,
  linkTransform,
  otherTransform,
  type TransformState,
} from "./transforms";

/** How one message is sanitized for preview. */
export interface SanitizeOptions {
  /** Keep https remote images (and https CSS background images). Off until the user asks. */
  allowRemoteImages: boolean;
  /** Maps a `cid:` Content-ID to a `data:image/(png|jpeg|gif|webp|bmp);base64,…` URI, or null. */
  cidResolver?: (contentId: string) => string | null;
}

/** What the sanitizer removed or flagged, so the UI can say "3 images blocked — show images". */
export interface SanitizeReport {
  /** Remote images replaced by a placeholder (original URL kept in `data-mw-src`). */
  blockedRemoteImages: number;
  /** 1×1 / hidden remote images dropped (always, even when images are allowed). */
  removedTrackingPixels: number;
  /** Links whose text shows another domain than their target (`data-mw-mismatch="1"`). */
  mismatchedLinks: number;
}

/** Sanitized HTML plus its report. */
export interface SanitizedEmail {
  html: string;
  report: SanitizeReport;
}

/** Elements an e-mail body may keep: text, structure and tables. No forms, media, frames, SVG or MathML. */
const ALLOWED_TAGS = [
  "a",
  "abbr",
  "address",
  "article",
  "aside",
  "b",
  "bdi",
  "bdo",
  "big",
  "blockquote",
  "br",
  "caption",
  "center",
  "cite",
  "code",
  "col",
  "colgroup",
  "dd",
  "del",
  "details",
  "dfn",
  "div",
  "dl",
  "dt",
  "em",
  "figcaption",
  "figure",
  "font",
  "footer",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "header",
  "hr",
  "i",
  "img",
  "ins",
  "kbd",
  "li",
  "main",
  "mark",
  "nav",
  "ol",
  "p",
  "pre",
  "q",
  "s",
  "samp",
  "section",
  "small",
  "span",
  "strike",
  "strong",
  "sub",
  "summary",
  "sup",
  "table",
  "tbody",
  "td",
  "tfoot",
  "th",
  "thead",
  "time",
  "tr",
  "tt",
  "u",
  "ul",
  "var",
  "wbr",
];

/** Elements whose text content is dropped with them (it is code, or raw text in a browser's parser). */
const NON_TEXT_TAGS = [
  "script",
  "style",
  "textarea",
  "option",
  "noscript",
  "title",
  "xmp",
  "iframe",
  "noembed",
  "noframes",
  "object",
  "applet",
  "template",
  "svg",
  "math",
  "select",
  "plaintext",
  "head",
];

const LAYOUT_ATTRIBUTES = ["style", "dir", "lang", "title", "align", "valign", "width", "height", "bgcolor"];
const TABLE_ATTRIBUTES = ["border", "cellpadding", "cellspacing", "summary", "frame", "rules"];
const CELL_ATTRIBUTES = ["colspan", "rowspan", "nowrap", "scope", "abbr", "headers"];

function allowedAttributes(): Record<string, string[]> {
  return {
    "*": LAYOUT_ATTRIBUTES,
    a: ["href", "target", "rel", "data-mw-href", "data-mw-link"],
    img: ["src", "alt", "border", "hspace", "vspace", "data-mw-src", "data-mw-blocked", DROP_ATTRIBUTE],
    table: TABLE_ATTRIBUTES,
    td: CELL_ATTRIBUTES,
    th: CELL_ATTRIBUTES,
    col: ["span"],
    colgroup: ["span"],
    font: ["color", "face", "size"],
    ol: ["start", "type", "reversed"],
    ul: ["type"],
    li: ["value", "type"],
    time: ["datetime"],
    del: ["datetime"],
    ins: ["datetime"],
    details: ["open"],
  };
}

/**
 * Sanitize an e-mail's HTML for the safe preview (held messages and archive, issue 5 / DESIGN §9).
 * Allowlist of tags/attributes, inline styles filtered per property, every script vector removed, links
 * rewritten (real target shown, opened in a new tab without opener/referrer, look-alike text flagged),
 * remote images replaced by placeholders unless allowed, tracking pixels always dropped, `cid:` images
 * resolved to inline data URIs. Render the result only through `buildPreviewDocument` in a sandboxed iframe.
 */
export function sanitizeEmailHtmlWithReport(html: string, options: SanitizeOptions): SanitizedEmail {
  const nonce = randomUUID();
  const state: TransformState = {
    nonce,
    linkCount: 0,
    blockedRemoteImages: 0,
    removedTrackingPixels: 0,
    inlineImageChars: 0,
  };
  const mismatched = new Set<string>();
  const sanitized = sanitizeHtml(html, {
    allowedTags: ALLOWED_TAGS,
    nonTextTags: NON_TEXT_TAGS,
    disallowedTagsMode: "discard",
    allowedAttributes: allowedAttributes(),
    selfClosing: ["img", "br", "hr", "wbr", "col"],
    allowedSchemes: ["http", "https", "mailto"],
    allowedSchemesByTag: { img: ["https", "http", "data"] },
    allowedSchemesAppliedToAttributes: ["href", "src"],
    allowProtocolRelative: false,
    allowedStyles: allowedStyles(options.allowRemoteImages),
    parseStyleAttributes: true,
    enforceHtmlBoundary: false,
    parser: { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
    transformTags: {
      a: (_tag, attribs) => linkTransform(attribs, state),
      img: (_tag, attribs) => imageTransform(attribs, options, state),
      "*": (tag, attribs) => otherTransform(tag, attribs, options, state),
    },
    exclusiveFilter: (frame) => {
      if (frame.tag === "img") return frame.attribs[DROP_ATTRIBUTE] === nonce;
      const marker = frame.tag === "a" ? frame.attribs["data-mw-link"] : undefined;
      const href = frame.attribs["href"];
      if (marker && href && linkTextMismatch(frame.text, href)) mismatched.add(marker);
      return false;
    },
  });
  const markerPattern = new RegExp(` data-mw-link="(${nonce}:\\d+)"`, "g");
  const withFlags = sanitized.replace(markerPattern, (_all, marker: string) =>
    mismatched.has(marker) ? ' data-mw-mismatch="1"' : "",
  );
  return {
    html: withFlags,
    report: {
      blockedRemoteImages: state.blockedRemoteImages,
      removedTrackingPixels: state.removedTrackingPixels,
      mismatchedLinks: mismatched.size,
    },
  };
}

/** `sanitizeEmailHtmlWithReport` without the report: the safe HTML only. */
export function sanitizeEmailHtml(html: string, options: SanitizeOptions): string {
  return sanitizeEmailHtmlWithReport(html, options).html;
}
