import { Window } from "happy-dom";

/** Elements that must never appear in sanitizer output. */
const FORBIDDEN_ELEMENTS = [
  "script",
  "iframe",
  "frame",
  "frameset",
  "object",
  "embed",
  "applet",
  "form",
  "input",
  "button",
  "textarea",
  "select",
  "meta",
  "base",
  "link",
  "svg",
  "math",
  "style",
  "template",
  "isindex",
  "audio",
  "video",
  "source",
  "track",
  "portal",
  "noscript",
  "bgsound",
  "area",
  "map",
  "keygen",
  "marquee",
  "picture",
];

/** Attributes that load or navigate to a URL. */
const URL_ATTRIBUTES = [
  "href",
  "src",
  "action",
  "formaction",
  "xlink:href",
  "background",
  "poster",
  "srcset",
  "lowsrc",
  "dynsrc",
  "data",
  "code",
  "codebase",
  "cite",
  "longdesc",
  "usemap",
  "ping",
  "manifest",
  "icon",
  "srcdoc",
];

/** URL attributes our output may carry at all (everything else is flagged just for being there). */
const PERMITTED_URL_ATTRIBUTES = new Set(["href", "src"]);

const INLINE_IMAGE = /^data:image\/(?:png|jpeg|gif|webp|bmp);base64,[A-Za-z0-9+/]+={0,2}$/;

/** What the checker may tolerate in output. */
export interface CheckOptions {
  /** When true, https image sources (and https CSS url()) are legitimate. */
  allowRemoteImages: boolean;
}

function schemeProblem(
  element: string,
  attribute: string,
  value: string,
  options: CheckOptions,
): string | null {
  if (element === "img" && attribute === "src" && INLINE_IMAGE.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `relative or unparseable ${attribute} "${value}" on <${element}>`;
  }
  const allowed =
    element === "img"
      ? options.allowRemoteImages
        ? ["https:"]
        : []
      : ["http:", "https:", "mailto:", "cid:"];
  return allowed.includes(url.protocol) ? null : `${attribute} with scheme ${url.protocol} on <${element}>`;
}

function styleProblem(style: string, options: CheckOptions): string | null {
  const compact = style
    .toLowerCase()
    .replace(/\/\*.*?\*\//g, "")
    .replace(/\s+/g, "");
  for (const bad of [
    "expression(",
    "javascript:",
    "vbscript:",
    "behavior",
    "-moz-binding",
    "@import",
    "\\",
    "position:fixed",
    "position:absolute",
    "image-set(",
    "var(",
  ]) {
    if (compact.includes(bad)) return `style contains ${bad}: ${style}`;
  }
  const urls = [...compact.matchAll(/url\(([^)]*)\)/g)].map((m) => (m[1] ?? "").replace(/^['"]|['"]$/g, ""));
  for (const url of urls) {
    if (!options.allowRemoteImages || !url.startsWith("https://")) return `style loads url(${url})`;
  }
  return null;
}

/**
 * Every executable or network-reaching vector in an HTML fragment, as readable problems (empty = clean).
 * Parses with happy-dom (scripts disabled) the way a browser builds the DOM, then walks every element.
 */
export function findXssVectors(html: string, options: CheckOptions): string[] {
  const problems: string[] = [];
  const raw =
    /<\s*\/?\s*(script|iframe|object|embed|svg|math|form|meta|base|link|style|frame|applet)\b/i.exec(html);
  if (raw) problems.push(`raw <${raw[1]}> in output`);
  const window = new Window({
    settings: {
      disableJavaScriptEvaluation: true,
      disableJavaScriptFileLoading: true,
      disableCSSFileLoading: true,
      disableIframePageLoading: true,
    },
  });
  try {
    const parser = new window.DOMParser();
    const doc = parser.parseFromString(
      `<!DOCTYPE html><html><head></head><body>${html}</body></html>`,
      "text/html",
    );
    for (const element of Array.from(doc.querySelectorAll("*"))) {
      const tag = element.tagName.toLowerCase();
      if (FORBIDDEN_ELEMENTS.includes(tag)) problems.push(`<${tag}> element`);
      for (const attribute of Array.from(element.attributes)) {
        const name = attribute.name.toLowerCase();
        const value = attribute.value ?? "";
        if (name.startsWith("on")) problems.push(`${name} handler on <${tag}>`);
        if (URL_ATTRIBUTES.includes(name)) {
          const problem = PERMITTED_URL_ATTRIBUTES.has(name)
            ? schemeProblem(tag, name, value, options)
            : `${name} attribute on <${tag}>`;
          if (problem) problems.push(problem);
        }
        if (name === "style") {
          const problem = styleProblem(value, options);
          if (problem) problems.push(problem);
        }
        if (name === "http-equiv") problems.push(`http-equiv on <${tag}>`);
      }
    }
  } finally {
    void window.happyDOM.close();
  }
  return problems;
}
