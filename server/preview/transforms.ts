import type { Attributes, Tag } from "sanitize-html";
import { HTTPS_CSS_URL, pixelSize, styleHides } from "./css";
import { contentIdOf, isInlineImageDataUri, parseAbsoluteUrl, safeLinkHref } from "./urls";
import type { SanitizeOptions } from "./sanitize";

/** Counters and the per-call nonce shared by the tag transforms of one sanitize call. */
export interface TransformState {
  /** Random per call: marks our own link attributes so mail content can never forge them. */
  nonce: string;
  linkCount: number;
  blockedRemoteImages: number;
  removedTrackingPixels: number;
  /** Characters of `cid:` data URIs embedded so far (see `MAX_INLINE_IMAGE_CHARS`). */
  inlineImageChars: number;
}

/**
 * Budget for the `cid:` images one preview embeds, in data-URI characters (about 12 MB of images). Each
 * reference copies the whole image into the HTML, so without it one inline image referenced a few hundred
 * times (a 5 KB body) built a string past V8's limit: the preview failed, and the server held gigabytes.
 */
export const MAX_INLINE_IMAGE_CHARS = 16 * 1024 * 1024;

/**
 * Marks an `<img>` for removal: the exclusive filter drops elements carrying this attribute with the
 * call's nonce. (Renaming to a disallowed tag would trip a sanitize-html bug that leaves a stale closing
 * tag name for the next sibling.)
 */
export const DROP_ATTRIBUTE = "data-mw-drop";

function drop(state: TransformState): Tag {
  return { tagName: "img", attribs: { [DROP_ATTRIBUTE]: state.nonce } };
}

/** Copy the presentational attributes every element may keep; sanitize-html filters them further. */
function keepLayout(attribs: Attributes): Attributes {
  const kept: Attributes = {};
  for (const name of ["style", "dir", "lang", "align", "valign", "width", "height", "bgcolor"]) {
    const value = attribs[name];
    if (value !== undefined) kept[name] = value;
  }
  return kept;
}

/**
 * `<a>`: keep only a safe absolute href (http/https/mailto, normalised by the URL parser), open it in a
 * new tab without opener or referrer, and show its real target as the tooltip and in `data-mw-href`.
 * A link without a safe target becomes a `<span>`.
 */
export function linkTransform(attribs: Attributes, state: TransformState): Tag {
  const href = attribs["href"] === undefined ? null : safeLinkHref(attribs["href"]);
  const kept = keepLayout(attribs);
  if (href === null) return { tagName: "span", attribs: kept };
  state.linkCount++;
  return {
    tagName: "a",
    attribs: {
      ...kept,
      href,
      target: "_blank",
      rel: "noopener noreferrer",
      title: href,
      "data-mw-href": href,
      "data-mw-link": `${state.nonce}:${state.linkCount}`,
    },
  };
}

/**
 * `<img>`: `cid:` → the resolver's inline data URI (a placeholder once the preview's budget is spent);
 * http(s) → dropped when it is a tracking pixel (≤ 1 px wide or high, or hidden), kept as https when remote
 * images are allowed, otherwise a placeholder with the original URL in `data-mw-src`; anything else (data:,
 * javascript:, relative) → dropped.
 */
export function imageTransform(attribs: Attributes, options: SanitizeOptions, state: TransformState): Tag {
  const url = attribs["src"] === undefined ? null : parseAbsoluteUrl(attribs["src"]);
  const kept: Attributes = { ...keepLayout(attribs), alt: attribs["alt"] ?? "" };
  if (attribs["title"] !== undefined) kept["title"] = attribs["title"];
  if (url?.protocol === "cid:") {
    const id = contentIdOf(url);
    const resolved = id && options.cidResolver ? options.cidResolver(id) : null;
    const fits = resolved !== null && state.inlineImageChars + resolved.length <= MAX_INLINE_IMAGE_CHARS;
    if (resolved && fits && isInlineImageDataUri(resolved)) {
      state.inlineImageChars += resolved.length;
      return { tagName: "img", attribs: { ...kept, src: resolved } };
    }
    return { tagName: "img", attribs: { ...kept, "data-mw-blocked": "inline" } };
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
    return drop(state);
  }
  const width = pixelSize(attribs["width"], attribs["style"], "width");
  const height = pixelSize(attribs["height"], attribs["style"], "height");
  if ((width !== null && width <= 1) || (height !== null && height <= 1) || styleHides(attribs["style"])) {
    state.removedTrackingPixels++;
    return drop(state);
  }
  if (options.allowRemoteImages) {
    url.protocol = "https:";
    return { tagName: "img", attribs: { ...kept, src: url.href } };
  }
  state.blockedRemoteImages++;
  return {
    tagName: "img",
    attribs: { ...kept, "data-mw-src": url.href, "data-mw-blocked": "remote", title: "Remote image blocked" },
  };
}

/** True when an inline style sets a `background-image` that "Show images" would let through (an https URL). */
function hasShowableBackground(style: string | undefined): boolean {
  if (style === undefined) return false;
  return style.split(";").some((declaration) => {
    const colon = declaration.indexOf(":");
    if (colon < 0 || declaration.slice(0, colon).trim().toLowerCase() !== "background-image") return false;
    const value = declaration
      .slice(colon + 1)
      .replace(/!\s*important\s*$/i, "")
      .trim();
    return HTTPS_CSS_URL.test(value);
  });
}

/**
 * Every other element: unchanged, but a CSS background image the preview blocks counts as a blocked remote image,
 * so a message whose pictures are all backgrounds still offers "Show images" (which lets https ones through).
 */
export function otherTransform(
  tagName: string,
  attribs: Attributes,
  options: SanitizeOptions,
  state: TransformState,
): Tag {
  if (!options.allowRemoteImages && hasShowableBackground(attribs["style"])) state.blockedRemoteImages++;
  return { tagName, attribs };
}
