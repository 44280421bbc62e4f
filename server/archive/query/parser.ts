import type { LeafNode, QueryNode } from "./ast";
import { QueryError } from "./errors";
import { isSyntaxToken, tokenize, type TermToken, type Token } from "./tokenizer";

/** Most leaf terms one query may hold; more is a `QueryError` at the first term over the limit. */
export const MAX_QUERY_TERMS = 50;

/**
 * Parse what a user typed into the archive search box into an AST. Grammar (AND binds tighter than OR):
 *
 *   query := or ; or := and ("OR" and)* ; and := unary (["AND"] unary)* ; unary := "-" unary | primary
 *   primary := "(" or ")" | word | "phrase" | field:value | field:"value" | has:attachment | after:D | before:D
 *
 * Answers `null` when there is nothing to match on (empty input, or only punctuation such as `&` or
 * `-`): the caller lists everything, newest first. Throws `QueryError` with the offending position.
 */
export function parseQuery(input: string): QueryNode | null {
  const parser = new Parser(tokenize(input));
  return parser.parseAll();
}

interface Parsed {
  node: QueryNode | null;
  /** Whether any token was consumed (a term that was dropped still counts as "something"). */
  consumed: boolean;
}

/** Words made of ASCII punctuation only produce no lexemes in the index, so they are dropped. */
function hasSearchableText(value: string): boolean {
  return /[\p{L}\p{N}]|[^\p{ASCII}]/u.test(value);
}

class Parser {
  private index = 0;
  private terms = 0;

  constructor(private readonly tokens: Token[]) {}

  parseAll(): QueryNode | null {
    const result = this.parseOr();
    const extra = this.peek();
    if (extra) throw new QueryError(`Unmatched ')' at ${extra.position}`, extra.position);
    return result.node;
  }

  private peek(): Token | undefined {
    return this.tokens[this.index];
  }

  private take(): Token {
    const token = this.tokens[this.index];
    if (!token) throw new Error("parser read past the end");
    this.index++;
    return token;
  }

  private parseOr(): Parsed {
    const first = this.parseAnd();
    const children: QueryNode[] = first.node ? [first.node] : [];
    let consumed = first.consumed;
    for (let token = this.peek(); token?.type === "or"; token = this.peek()) {
      this.take();
      if (!consumed) throw new QueryError(`Nothing before OR at ${token.position}`, token.position);
      const next = this.parseAnd();
      if (!next.consumed) throw new QueryError(`Nothing after OR at ${token.position}`, token.position);
      if (next.node) children.push(next.node);
      consumed = true;
    }
    return { node: combine("or", children), consumed };
  }

  private parseAnd(): Parsed {
    const children: QueryNode[] = [];
    let consumed = false;
    for (
      let token = this.peek();
      token && token.type !== "or" && token.type !== "rparen";
      token = this.peek()
    ) {
      if (token.type === "and") {
        this.take();
        if (!consumed) throw new QueryError(`Nothing before AND at ${token.position}`, token.position);
        const after = this.peek();
        if (!after || after.type === "or" || after.type === "rparen" || after.type === "and") {
          throw new QueryError(`Nothing after AND at ${token.position}`, token.position);
        }
        continue;
      }
      const unary = this.parseUnary();
      consumed = true;
      if (unary) children.push(unary);
    }
    return { node: combine("and", children), consumed };
  }

  private parseUnary(): QueryNode | null {
    const token = this.take();
    if (token.type === "not") {
      const operand = this.peek();
      if (!operand || operand.type === "rparen" || operand.type === "or" || operand.type === "and") {
        throw new QueryError(`Nothing to exclude after '-' at ${token.position}`, token.position);
      }
      const inner = this.parseUnary();
      if (!inner) return null;
      return inner.kind === "not" ? inner.child : { kind: "not", child: inner };
    }
    if (token.type === "lparen") {
      const inner = this.parseOr();
      const close = this.peek();
      if (close?.type !== "rparen")
        throw new QueryError(`Unclosed parenthesis starting at ${token.position}`, token.position);
      this.take();
      return inner.node;
    }
    if (isSyntaxToken(token)) throw new Error(`parser reached ${token.type} where a term was expected`);
    const leaf = toLeaf(token);
    if (!leaf) return null;
    this.terms++;
    if (this.terms > MAX_QUERY_TERMS) {
      throw new QueryError(`Too many terms (max ${MAX_QUERY_TERMS}) at ${leaf.position}`, leaf.position);
    }
    return leaf;
  }
}

/** Map a term token to its leaf node; `null` for text with nothing searchable in it. */
function toLeaf(token: TermToken): LeafNode | null {
  switch (token.type) {
    case "word":
    case "phrase": {
      const value = token.value.normalize("NFC").trim();
      return hasSearchableText(value) ? { kind: token.type, value, position: token.position } : null;
    }
    case "field":
      return {
        kind: "field",
        field: token.field,
        value: token.value.normalize("NFC").trim(),
        quoted: token.quoted,
        position: token.position,
      };
    case "has_attachment":
      return { kind: "has_attachment", position: token.position };
    case "date":
      return { kind: "date", bound: token.bound, date: token.date, position: token.position };
  }
}

/** Build an AND/OR node, flattening nested nodes of the same kind and unwrapping a single child. */
function combine(kind: "and" | "or", children: QueryNode[]): QueryNode | null {
  const flat = children.flatMap((child) => (child.kind === kind ? child.children : [child]));
  if (flat.length === 0) return null;
  if (flat.length === 1) return flat[0] ?? null;
  return { kind, children: flat };
}
