/**
 * Inline-style allowlist for e-mail previews. Only listed properties survive, and only with values made
 * of plain tokens: letters, digits, `#`, `%`, `.`, `,`, `/`, `-`, quotes and spaces, plus `rgb()`/`hsl()`
 * colour functions with numeric arguments. No backslash (so no CSS escapes), no `:` or `;`, no `(`
 * elsewhere — which rules out `expression(`, `url(`, `javascript:`, `image-set(`, `var(` and `@import`.
 * `position` is left out on purpose (no overlays that fake our UI). `background-image: url(https://…)`
 * passes only when remote images are allowed.
 */

const COLOR_FUNCTION = String.raw`(?:rgba?|hsla?)\(\s*[\d.\s,%deg]+\)`;
const PLAIN_CHARS = String.raw`[-a-zA-Z0-9#%.,/'" \t]`;
/** A value made only of plain tokens and numeric colour functions. */
export const SAFE_STYLE_VALUE = new RegExp(`^(?:${PLAIN_CHARS}|${COLOR_FUNCTION})*$`);
/** `url(https://host/path)` with no quotes-in-URL, parentheses, spaces or backslashes inside. */
export const HTTPS_CSS_URL = /^url\(\s*(["']?)https:\/\/[^\s"'()\\]+\1\s*\)$/i;

/** Properties an e-mail's inline styles may set. */
export const ALLOWED_STYLE_PROPERTIES: readonly string[] = [
  "color",
  "background",
  "background-color",
  "opacity",
  "visibility",
  "display",
  "border",
  "border-top",
  "border-right",
  "border-bottom",
  "border-left",
  "border-color",
  "border-style",
  "border-width",
  "border-top-color",
  "border-right-color",
  "border-bottom-color",
  "border-left-color",
  "border-top-style",
  "border-right-style",
  "border-bottom-style",
  "border-left-style",
  "border-top-width",
  "border-right-width",
  "border-bottom-width",
  "border-left-width",
  "border-radius",
  "border-collapse",
  "border-spacing",
  "margin",
  "margin-top",
  "margin-right",
  "margin-bottom",
  "margin-left",
  "padding",
  "padding-top",
  "padding-right",
  "padding-bottom",
  "padding-left",
  "width",
  "height",
  "max-width",
  "min-width",
  "max-height",
  "min-height",
  "box-sizing",
  "float",
  "clear",
  "overflow",
  "overflow-x",
  "overflow-y",
  "font",
  "font-family",
  "font-size",
  "font-style",
  "font-weight",
  "font-variant",
  "line-height",
  "letter-spacing",
  "word-spacing",
  "text-align",
  "text-decoration",
  "text-transform",
  "text-indent",
  "text-overflow",
  "vertical-align",
  "white-space",
  "word-break",
  "word-wrap",
  "overflow-wrap",
  "direction",
  "unicode-bidi",
  "list-style",
  "list-style-type",
  "list-style-position",
  "table-layout",
  "caption-side",
  "empty-cells",
];

/** The `allowedStyles` option of sanitize-html for one preview. */
export function allowedStyles(allowRemoteImages: boolean): Record<string, Record<string, RegExp[]>> {
  const perProperty: Record<string, RegExp[]> = {};
  for (const property of ALLOWED_STYLE_PROPERTIES) perProperty[property] = [SAFE_STYLE_VALUE];
  if (allowRemoteImages) perProperty["background-image"] = [HTTPS_CSS_URL];
  return { "*": perProperty };
}

/** `!important` may follow any declaration's value; the browser applies the value all the same. */
const IMPORTANT = String.raw`(?:\s*!\s*important)?`;

/**
 * The CSS pixel size an image renders at, at most, from its attribute (`1`, `1px`) and inline style
 * (`width`/`max-width`, with or without `!important`): the smallest size found, or null when unknown.
 */
export function pixelSize(
  attribute: string | undefined,
  style: string | undefined,
  property: "width" | "height",
): number | null {
  const declaration = new RegExp(
    `(?:^|;)\\s*(max-)?${property}\\s*:\\s*([\\d.]+)(?:px)?${IMPORTANT}\\s*(?=;|$)`,
    "gi",
  );
  const sizes: number[] = [];
  let own = false;
  for (const match of style?.matchAll(declaration) ?? []) {
    sizes.push(Number(match[2]));
    if (match[1] === undefined) own = true;
  }
  const fromAttribute = attribute ? /^\s*([\d.]+)\s*(?:px)?\s*$/i.exec(attribute)?.[1] : undefined;
  if (!own && fromAttribute !== undefined) sizes.push(Number(fromAttribute));
  const finite = sizes.filter((size) => Number.isFinite(size));
  return finite.length === 0 ? null : Math.min(...finite);
}

/** Whether an inline style hides the element (a hidden remote image exists only to track). */
export function styleHides(style: string | undefined): boolean {
  if (!style) return false;
  return new RegExp(
    `(?:^|;)\\s*(?:display\\s*:\\s*none|visibility\\s*:\\s*hidden|opacity\\s*:\\s*0(?:\\.0*)?${IMPORTANT}\\s*(?:;|$))`,
    "i",
  ).test(style);
}
