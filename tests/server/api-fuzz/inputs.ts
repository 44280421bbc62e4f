import { randomUUID } from "node:crypto";
import type { Rng } from "../mail/gateway/fuzz-inputs";

/** The parts of a JSON Schema (zod's toJSONSchema output) the generator reads. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
}

/**
 * Values the generator draws from: the world's real ids and addresses, so requests reach past "not found".
 * `params` holds, per path parameter of the route being called, the values that name something real (the caller's
 * own first); `ids` every id of the world, for ids in bodies and queries.
 */
export interface InputPools {
  ids: string[];
  emails: string[];
  /** The tenant's mail domains, for new addresses in them. */
  domains: string[];
  /** Internet Message-IDs of archived mail (the caller's first). */
  messageIds: string[];
  params: Record<string, string[]>;
}

/**
 * What a plain string field takes when its schema says no more than "string" (its check is a refinement, which JSON
 * Schema cannot show) or gives a pattern: told by the field's name, as a person filling the form would.
 */
function plainByName(key: string, rng: Rng, pools: InputPools): string | null {
  const fresh = () => `fz${rng.int(1e9).toString(36)}`;
  switch (key) {
    case "address":
    case "sender":
    case "recipient":
      // Half someone's address, half a new one in a domain of the tenant (an alias to add).
      return rng.next() < 0.5 || !pools.domains.length
        ? rng.pick(pools.emails)
        : `${fresh()}@${rng.pick(pools.domains)}`;
    case "pattern":
      return rng.pick([rng.pick(pools.emails), `${fresh()}.example`, `*.${fresh()}.example`]);
    case "domain":
      return `${fresh()}.example`;
    case "messageId":
    case "internetMessageId":
      return pools.messageIds.length ? rng.pick(pools.messageIds.slice(0, 3)) : null;
    default:
      return null;
  }
}

/** Plain candidates for a pattern the generator cannot read: the first one the pattern takes is used. */
function plainForPattern(pattern: string, schema: JsonSchema, rng: Rng, pools: InputPools): string | null {
  let re: RegExp;
  try {
    re = new RegExp(pattern, "u");
  } catch {
    return null;
  }
  const digits = (n: number) => Array.from({ length: n }, () => String(rng.int(10))).join("");
  const candidates = [
    plainString(schema, rng),
    ...(pools.emails.length ? [rng.pick(pools.emails)] : []),
    digits(6),
    `${String(rng.int(24)).padStart(2, "0")}:${String(rng.int(60)).padStart(2, "0")}`,
    ...(pools.ids.length ? [rng.pick(pools.ids)] : []),
  ];
  return candidates.find((candidate) => re.test(candidate)) ?? null;
}

/** Strings that have broken servers: NUL (PostgreSQL's text refuses it), lone surrogates, markup, paths, control. */
const HOSTILE_STRINGS = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udfffy",
  "\u202eevil",
  "'; DROP TABLE users; --",
  "<script>alert(1)</script>",
  "../../../../etc/passwd",
  "%00%2e%2e",
  "\\",
  "\r\n\r\nInjected: header",
  "名前@例え.テスト",
  "xn--80ak6aa92e.com",
  "😀".repeat(40),
  "NaN",
  "-1",
  "1e400",
  "null",
  "true",
  "__proto__",
  "*",
  "%",
  "_",
  '"',
  "a".repeat(5000),
];

/** Values of the wrong kind entirely, for a field the schema types otherwise. */
const WRONG_KIND: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  2 ** 53 + 2,
  1e308,
  [],
  [null],
  {},
  { __proto__: { admin: true } },
  { constructor: { prototype: { admin: true } } },
  "x",
];

/** A plain word of the schema's length bounds (letters and digits), for a request meant to pass validation. */
function plainString(schema: JsonSchema, rng: Rng): string {
  const min = Math.max(schema.minLength ?? 1, 1);
  const max = Math.max(min, Math.min(schema.maxLength ?? 24, 24));
  const length = min + rng.int(max - min + 1);
  let out = "";
  for (let i = 0; i < length; i++) out += rng.pick([..."abcdefghijklmnopqrstuvwxyz0123456789"]);
  return out;
}

/**
 * A string for a JSON Schema string: its format's kind (often a real id or address), its bounds, or hostile text.
 * `plain` keeps to what validation takes (a real id, an address, a plain word) so the request reaches the command.
 */
function sampleString(schema: JsonSchema, rng: Rng, pools: InputPools, plain: boolean, key: string): string {
  const named = plain && !schema.format ? plainByName(key, rng, pools) : null;
  if (named !== null) return named;
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 300, 100_000);
  const roll = plain ? 0 : rng.next();
  if (schema.format === "uuid" || /uuid|\[0-9a-f\]\{8\}/i.test(schema.pattern ?? "")) {
    if (roll < 0.6 && pools.ids.length) return rng.pick(pools.ids);
    if (roll < 0.9) return randomUUID();
  }
  if (schema.format === "email" && roll < 0.7) return rng.pick(pools.emails);
  if (schema.format === "date-time" && plain) return new Date(Date.now() - rng.int(10 ** 10)).toISOString();
  if (schema.format === "date-time" && roll < 0.7)
    return rng.pick([
      new Date().toISOString(),
      "0001-01-01T00:00:00Z",
      "9999-12-31T23:59:59.999Z",
      "2026-02-30T00:00:00Z",
      new Date(Date.now() - rng.int(10 ** 11)).toISOString(),
    ]);
  if (plain && schema.pattern)
    return plainForPattern(schema.pattern, schema, rng, pools) ?? plainString(schema, rng);
  if (plain) return plainString(schema, rng);
  if (roll < 0.15) return "x".repeat(max);
  if (roll < 0.2) return "é".repeat(Math.max(min, 1));
  if (roll < 0.7) return rng.pick(HOSTILE_STRINGS);
  const length = min + rng.int(Math.max(1, Math.min(max, 40) - min + 1));
  let out = "";
  for (let i = 0; i < length; i++) out += rng.pick(["a", "Z", "0", " ", "-", ".", "@", "ü", "中", "\t"]);
  return out;
}

/** A number for a JSON Schema number or integer: its bounds, just past them, or the usual edge values. */
function sampleNumber(schema: JsonSchema, rng: Rng): number {
  const low = schema.minimum ?? schema.exclusiveMinimum;
  const high = schema.maximum ?? schema.exclusiveMaximum;
  const candidates = [0, 1, -1, 2 ** 31, 2 ** 53 - 1, -(2 ** 53), 0.5, 1e300];
  if (low !== undefined) candidates.push(low, low - 1, low + 1);
  if (high !== undefined) candidates.push(high, high + 1, high - 1);
  const value = rng.pick(candidates);
  return schema.type === "integer" && rng.next() < 0.8 ? Math.trunc(value) : value;
}

/** A number within the schema's bounds. */
function plainNumber(schema: JsonSchema, rng: Rng): number {
  const low = schema.minimum ?? (schema.exclusiveMinimum ?? 0) + 1;
  const high = Math.min(schema.maximum ?? (schema.exclusiveMaximum ?? low + 100) - 1, low + 100);
  const value = low + rng.next() * Math.max(0, high - low);
  return schema.type === "integer" ? Math.round(value) : value;
}

/**
 * A value for a JSON Schema, mostly of its shape (so a request gets past validation to the command) and sometimes
 * not: each node is, one time in `wrongness`, replaced by a value of the wrong kind. `wrongness` 0 keeps to the
 * schema with plain values throughout (strings of letters and digits, real ids). Deterministic for a seed.
 */
export function sampleValue(
  schema: JsonSchema,
  rng: Rng,
  pools: InputPools,
  wrongness = 12,
  depth = 0,
  key = "",
): unknown {
  const plain = wrongness === 0;
  if (!plain && depth > 0 && rng.int(wrongness) === 0) return rng.pick(WRONG_KIND);
  if (depth > 8) return null;
  if (schema.const !== undefined) return schema.const;
  if (schema.enum?.length) return rng.pick(schema.enum);
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches?.length) return sampleValue(rng.pick(branches), rng, pools, wrongness, depth, key);
  if (schema.allOf?.length) return sampleValue(schema.allOf[0]!, rng, pools, wrongness, depth, key);
  const type = Array.isArray(schema.type) ? rng.pick(schema.type) : schema.type;
  switch (type) {
    case "string":
      return sampleString(schema, rng, pools, plain, key);
    case "number":
    case "integer":
      return plain ? plainNumber(schema, rng) : sampleNumber(schema, rng);
    case "boolean":
      return rng.next() < 0.5;
    case "null":
      return null;
    case "array": {
      if (schema.prefixItems)
        return schema.prefixItems.map((item) => sampleValue(item, rng, pools, wrongness, depth + 1));
      const min = schema.minItems ?? 0;
      const max = schema.maxItems ?? 10;
      // Now and then as long as allowed (bulk actions of thousands of ids), else a few.
      const length =
        !plain && rng.next() < 0.1 ? Math.min(max, 2000) : min + rng.int(Math.min(max, min + 4) - min + 1);
      return Array.from({ length }, () =>
        sampleValue(schema.items ?? {}, rng, pools, wrongness, depth + 1, key),
      );
    }
    case "object": {
      const out: Record<string, unknown> = {};
      const required = new Set(schema.required ?? []);
      for (const [name, property] of Object.entries(schema.properties ?? {})) {
        // A plain request starts a list at its first page: a cursor is the server's own token, not typed.
        if (plain && name === "cursor" && !required.has(name)) continue;
        if (required.has(name) || rng.next() < 0.6)
          out[name] = sampleValue(property, rng, pools, wrongness, depth + 1, name);
      }
      if (!plain && rng.int(wrongness) === 0)
        out[rng.pick(["__proto__", "constructor", "unknownField"])] = "x";
      return out;
    }
    default:
      return rng.pick([...WRONG_KIND, ...HOSTILE_STRINGS.slice(0, 8)]);
  }
}

/** A query object as a query string: arrays as repeated keys, objects as JSON, the rest as text. */
export function toQueryString(value: unknown): string {
  if (!value || typeof value !== "object" || Array.isArray(value)) return "";
  const params = new URLSearchParams();
  for (const [key, field] of Object.entries(value)) {
    const items: unknown[] = Array.isArray(field) ? field : [field];
    for (const item of items)
      params.append(key, typeof item === "object" && item !== null ? JSON.stringify(item) : String(item));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * A path with each `:param` filled: a real id, a random one, or something that is no id at all. A parameter the
 * route's `params` schema limits to a list of values (`enum`) takes one of them in a plain request.
 */
export function fillPath(
  path: string,
  rng: Rng,
  pools: InputPools,
  plain = false,
  params: JsonSchema | null = null,
): string {
  return path.replace(/:(\w+)/g, (_, name: string) => {
    const roll = plain ? 0 : rng.next();
    const allowed = params?.properties?.[name]?.enum?.filter((v): v is string => typeof v === "string");
    const real = plain && allowed?.length ? allowed : (pools.params[name] ?? pools.ids);
    // The caller's own come first in `real`: a plain request names one of the first few.
    const value =
      roll < 0.55 && real.length
        ? plain
          ? rng.pick(real.slice(0, 3))
          : rng.pick(real)
        : roll < 0.75
          ? randomUUID()
          : rng.pick(["not-an-id", "0", "-1", "%00", "..", "a".repeat(600), "名前", "null", "%25"]);
    return value === ".." || value.startsWith("%") ? value : encodeURIComponent(value);
  });
}
