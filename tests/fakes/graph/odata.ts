import { GraphError } from "./types";

type Literal = string | number | boolean | null | Date;
type Expr =
  | { kind: "cmp"; path: string[]; op: string; value: Literal }
  | { kind: "fn"; name: "startswith" | "contains"; path: string[]; value: string }
  | { kind: "and" | "or"; left: Expr; right: Expr }
  | { kind: "not"; inner: Expr };

/** A compiled $filter: tests a rendered resource (Graph JSON). */
export type FilterPredicate = (resource: Record<string, unknown>) => boolean;

const TOKEN =
  /\s*(\(|\)|,|'(?:[^']|'')*'|[A-Za-z_][\w./@]*(?:\/[\w@]+)*|-?\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d)?|-?\d+(?:\.\d+)?)/y;
const OPS = new Set(["eq", "ne", "gt", "ge", "lt", "le"]);

function invalidFilter(detail: string): GraphError {
  return new GraphError(400, "BadRequest", `Invalid filter clause: ${detail}`);
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const start = TOKEN.lastIndex;
    const match = TOKEN.exec(text);
    if (!match?.[1]) throw invalidFilter(`syntax error at position ${start} in '${text}'.`);
    tokens.push(match[1]);
  }
  return tokens;
}

/** Parses the subset of OData $filter Graph supports on mail: comparisons, and/or/not, startswith/contains. */
export function compileFilter(text: string): FilterPredicate {
  const tokens = tokenize(text);
  let position = 0;
  const peek = (): string | undefined => tokens[position];
  const next = (): string => {
    const token = tokens[position++];
    if (token === undefined) throw invalidFilter(`unexpected end of '${text}'.`);
    return token;
  };
  const literal = (token: string): Literal => {
    if (token.startsWith("'")) return token.slice(1, -1).replace(/''/g, "'");
    if (token === "true" || token === "false") return token === "true";
    if (token === "null") return null;
    if (/^-?\d{4}-\d\d-\d\dT/.test(token)) return new Date(token);
    if (/^-?\d/.test(token)) return Number(token);
    throw invalidFilter(`'${token}' is not a literal.`);
  };
  const primary = (): Expr => {
    const token = next();
    if (token === "(") {
      const inner = orExpr();
      if (next() !== ")") throw invalidFilter("missing ')'.");
      return inner;
    }
    if (token === "not") return { kind: "not", inner: primary() };
    if ((token === "startswith" || token === "contains") && peek() === "(") {
      next();
      const path = next().split("/");
      if (next() !== ",") throw invalidFilter(`${token} takes two arguments.`);
      const value = literal(next());
      if (next() !== ")" || typeof value !== "string") throw invalidFilter(`bad ${token} call.`);
      return { kind: "fn", name: token, path, value };
    }
    const op = next();
    if (!OPS.has(op)) throw invalidFilter(`unknown operator '${op}'.`);
    return { kind: "cmp", path: token.split("/"), op, value: literal(next()) };
  };
  const andExpr = (): Expr => {
    let left = primary();
    while (peek() === "and") {
      next();
      left = { kind: "and", left, right: primary() };
    }
    return left;
  };
  const orExpr = (): Expr => {
    let left = andExpr();
    while (peek() === "or") {
      next();
      left = { kind: "or", left, right: andExpr() };
    }
    return left;
  };
  const expr = orExpr();
  if (position !== tokens.length) throw invalidFilter(`unexpected '${tokens[position] ?? ""}'.`);
  return (resource) => evaluate(expr, resource);
}

function resolvePath(resource: Record<string, unknown>, path: string[]): unknown {
  let current: unknown = resource;
  for (const part of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

function compare(actual: unknown, op: string, expected: Literal): boolean {
  let left: unknown = actual;
  let right: unknown = expected;
  if (expected instanceof Date) {
    left = typeof actual === "string" ? Date.parse(actual) : Number.NaN;
    right = expected.getTime();
  } else if (typeof expected === "string" && typeof actual === "string") {
    left = actual.toLowerCase();
    right = expected.toLowerCase();
  }
  switch (op) {
    case "eq":
      return left === right || (right === null && left === undefined);
    case "ne":
      return !(left === right || (right === null && left === undefined));
    default: {
      if (typeof left !== typeof right || (typeof left !== "number" && typeof left !== "string"))
        return false;
      const a = left as number | string;
      const b = right as number | string;
      return op === "gt" ? a > b : op === "ge" ? a >= b : op === "lt" ? a < b : a <= b;
    }
  }
}

function evaluate(expr: Expr, resource: Record<string, unknown>): boolean {
  switch (expr.kind) {
    case "and":
      return evaluate(expr.left, resource) && evaluate(expr.right, resource);
    case "or":
      return evaluate(expr.left, resource) || evaluate(expr.right, resource);
    case "not":
      return !evaluate(expr.inner, resource);
    case "fn": {
      const value = resolvePath(resource, expr.path);
      if (typeof value !== "string") return false;
      const haystack = value.toLowerCase();
      const needle = expr.value.toLowerCase();
      return expr.name === "startswith" ? haystack.startsWith(needle) : haystack.includes(needle);
    }
    default:
      return compare(resolvePath(resource, expr.path), expr.op, expr.value);
  }
}

/** Applies $select: keeps @odata.etag, id and the named properties; an unknown name is Graph's 400. */
export function applySelect(
  resource: Record<string, unknown>,
  select: string[] | undefined,
  typeName: string,
): Record<string, unknown> {
  if (!select || select.length === 0) return resource;
  const out: Record<string, unknown> = {};
  if ("@odata.etag" in resource) out["@odata.etag"] = resource["@odata.etag"];
  out.id = resource.id;
  for (const name of select) {
    if (!(name in resource)) {
      throw new GraphError(
        400,
        "RequestBroker--ParseUri",
        `Could not find a property named '${name}' on type '${typeName}'.`,
      );
    }
    out[name] = resource[name];
  }
  return out;
}

/** Reads $select into property names. */
export function selectList(query: URLSearchParams): string[] | undefined {
  const raw = query.get("$select");
  return raw
    ? raw
        .split(",")
        .map((name) => name.trim())
        .filter(Boolean)
    : undefined;
}

/** Reads a non-negative integer query option ($top, $skip), or throws 400. */
export function intOption(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new GraphError(400, "BadRequest", `Invalid value '${raw}' for query option ${name}.`);
  return value;
}

/** Reads `Prefer: odata.maxpagesize=N`. */
export function maxPageSize(prefer: string | undefined): number | undefined {
  const match = /odata\.maxpagesize\s*=\s*(\d+)/i.exec(prefer ?? "");
  return match?.[1] ? Number(match[1]) : undefined;
}
