/**
 * The syntax tree of an archive search query (DESIGN §4). Produced by `parseQuery`, consumed by the
 * SQL compiler. Positions are 0-based UTF-16 offsets into the typed query (what `String.prototype.slice`
 * and an `<input>` selection use), so the UI can point at the part that matched or broke.
 */

/** Fields that take a free value, e.g. `from:alice` or `subject:"quarterly report"`. */
export const VALUE_FIELDS = ["from", "to", "cc", "subject", "attachment"] as const;
/** One field that takes a free value. */
export type ValueField = (typeof VALUE_FIELDS)[number];

/** Every operator the language knows, used for "did you mean" suggestions. */
export const KNOWN_OPERATORS = [...VALUE_FIELDS, "has", "after", "before"] as const;

/** A free word: matched against the full-text index (all fields, all weights). */
export interface WordNode {
  kind: "word";
  value: string;
  position: number;
}

/** A "quoted phrase": the words must appear next to each other, in order. */
export interface PhraseNode {
  kind: "phrase";
  value: string;
  position: number;
}

/** `from:` / `to:` / `cc:` / `subject:` / `attachment:` with its (possibly quoted) value. */
export interface FieldNode {
  kind: "field";
  field: ValueField;
  value: string;
  quoted: boolean;
  position: number;
}

/** `has:attachment`. */
export interface HasAttachmentNode {
  kind: "has_attachment";
  position: number;
}

/** `after:D` (date >= D 00:00 UTC) or `before:D` (date < D 00:00 UTC); `date` is `YYYY-MM-DD`. */
export interface DateNode {
  kind: "date";
  bound: "after" | "before";
  date: string;
  position: number;
}

/** All children must match (implicit between terms, binds tighter than OR). */
export interface AndNode {
  kind: "and";
  children: QueryNode[];
}

/** Any child may match (`a OR b`). */
export interface OrNode {
  kind: "or";
  children: QueryNode[];
}

/** The child must not match (`-word`, `-"phrase"`, `-from:x`, `-(a OR b)`). */
export interface NotNode {
  kind: "not";
  child: QueryNode;
}

/** A term that matches on its own (no children). */
export type LeafNode = WordNode | PhraseNode | FieldNode | HasAttachmentNode | DateNode;

/** Any node of a parsed query. `parseQuery` answers `null` for a query with nothing to match on. */
export type QueryNode = LeafNode | AndNode | OrNode | NotNode;
