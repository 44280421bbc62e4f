/**
 * A small XML reader for the add-in manifest checks: elements, attributes, text, comments, CDATA and the
 * five predefined entities plus character references. No DTDs (a manifest never has one). Schema
 * validity is xmllint's job; this only builds a tree the custom checks can walk, with line numbers.
 */

/** One element of a parsed XML document. */
export interface XmlElement {
  /** Qualified name as written, e.g. `bt:Image`. */
  name: string;
  /** Name without its prefix, e.g. `Image`. */
  local: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text content directly inside this element (trimmed). */
  text: string;
  /** 1-based line of the start tag. */
  line: number;
  parent: XmlElement | null;
}

/** Thrown when the text is not well-formed XML. */
export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decodeEntities(raw: string, line: number): string {
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (_match, ref: string) => {
    if (ref.startsWith("#x")) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith("#")) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    const value = ENTITIES[ref];
    if (value === undefined) throw new XmlSyntaxError(`unknown entity &${ref};`, line);
    return value;
  });
}

function localName(name: string): string {
  const colon = name.indexOf(":");
  return colon === -1 ? name : name.slice(colon + 1);
}

const ATTRIBUTE_RE = /([A-Za-z_][\w.:-]*)\s*=\s*("([^"]*)"|'([^']*)')/g;

function parseAttributes(source: string, line: number): Record<string, string> {
  const attrs: Record<string, string> = {};
  const leftover = source.replace(ATTRIBUTE_RE, (_m, name: string, _q: string, dq?: string, sq?: string) => {
    if (name in attrs) throw new XmlSyntaxError(`duplicate attribute ${name}`, line);
    attrs[name] = decodeEntities(dq ?? sq ?? "", line);
    return "";
  });
  if (leftover.trim() !== "") throw new XmlSyntaxError(`malformed attributes: ${leftover.trim()}`, line);
  return attrs;
}

/** Parses a whole document and returns its root element. */
export function parseXml(source: string): XmlElement {
  let position = 0;
  let line = 1;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;

  const advance = (to: number): void => {
    for (let i = position; i < to; i++) if (source.charCodeAt(i) === 10) line++;
    position = to;
  };
  const expectEnd = (marker: string, what: string): number => {
    const end = source.indexOf(marker, position);
    if (end === -1) throw new XmlSyntaxError(`unterminated ${what}`, line);
    return end;
  };

  while (position < source.length) {
    const next = source.indexOf("<", position);
    const textEnd = next === -1 ? source.length : next;
    if (textEnd > position) {
      const text = source.slice(position, textEnd);
      const current = stack[stack.length - 1];
      if (current) current.text += decodeEntities(text, line);
      else if (text.trim() !== "") throw new XmlSyntaxError("text outside the root element", line);
      advance(textEnd);
      continue;
    }
    if (source.startsWith("<!--", position)) {
      advance(expectEnd("-->", "comment") + 3);
    } else if (source.startsWith("<![CDATA[", position)) {
      const end = expectEnd("]]>", "CDATA section");
      const current = stack[stack.length - 1];
      if (current) current.text += source.slice(position + 9, end);
      advance(end + 3);
    } else if (source.startsWith("<?", position)) {
      advance(expectEnd("?>", "processing instruction") + 2);
    } else if (source.startsWith("<!", position)) {
      throw new XmlSyntaxError("DTDs are not allowed in a manifest", line);
    } else if (source.startsWith("</", position)) {
      const end = expectEnd(">", "end tag");
      const name = source.slice(position + 2, end).trim();
      const open = stack.pop();
      if (!open || open.name !== name) {
        throw new XmlSyntaxError(`</${name}> does not close <${open?.name ?? "nothing"}>`, line);
      }
      open.text = open.text.trim();
      advance(end + 1);
    } else {
      const end = expectEnd(">", "start tag");
      const body = source.slice(position + 1, end);
      const selfClosing = body.endsWith("/");
      const inner = selfClosing ? body.slice(0, -1) : body;
      const match = /^([A-Za-z_][\w.:-]*)([\s\S]*)$/.exec(inner);
      if (!match || match[1] === undefined) throw new XmlSyntaxError(`malformed tag <${body}>`, line);
      const parent = stack[stack.length - 1] ?? null;
      if (!parent && root) throw new XmlSyntaxError("a second root element", line);
      const element: XmlElement = {
        name: match[1],
        local: localName(match[1]),
        attrs: parseAttributes(match[2] ?? "", line),
        children: [],
        text: "",
        line,
        parent,
      };
      if (parent) parent.children.push(element);
      else root = element;
      if (!selfClosing) stack.push(element);
      advance(end + 1);
    }
  }
  if (stack.length > 0) throw new XmlSyntaxError(`<${stack[stack.length - 1]?.name}> is never closed`, line);
  if (!root) throw new XmlSyntaxError("no root element", line);
  return root;
}

/** Every element below (and including) `root`, depth first in document order. */
export function allElements(root: XmlElement): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (element: XmlElement): void => {
    out.push(element);
    for (const child of element.children) walk(child);
  };
  walk(root);
  return out;
}

/** The nearest ancestor (or self) with the given local name. */
export function closest(element: XmlElement, local: string): XmlElement | null {
  for (let current: XmlElement | null = element; current; current = current.parent) {
    if (current.local === local) return current;
  }
  return null;
}
