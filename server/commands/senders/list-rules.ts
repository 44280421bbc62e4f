import { domainToASCII } from "node:url";
import { sql, type Kysely, type SqlBool } from "kysely";
import type { Database } from "../../db/schema";
import type { Actor } from "../../context";
import type { SenderKind, SenderScope } from "../../../shared/schemas/senders";
import { decodeCursor, encodeCursor, likeEscape, olderThan } from "../held/cursor";
import type { SenderRuleRow } from "./upsert";

/** Filters of a sender list page. */
export interface SenderListFilter {
  scope: SenderScope;
  kind?: SenderKind | undefined;
  q?: string | undefined;
  cursor?: string | undefined;
  limit: number;
}

/** A page of rules and the cursor of the next one. */
export interface SenderRulePage {
  rows: SenderRuleRow[];
  nextCursor: string | null;
}

/**
 * Search text in the spelling patterns are stored in: lower case, and each label of the domain part that is not
 * ASCII in punycode (`Bücher` → `xn--bcher-kva`), as the pattern was canonicalised when it was added.
 */
function storedSpellingOf(text: string): string {
  const lower = text.toLowerCase();
  const at = lower.lastIndexOf("@");
  const domain = lower.slice(at + 1).split(".");
  const ascii = domain.map((label) => (/^\p{ASCII}*$/u.test(label) ? label : domainToASCII(label) || label));
  return `${lower.slice(0, at + 1)}${ascii.join(".")}`;
}

/**
 * Patterns that contain the text as typed, or in its stored spelling: a Unicode domain is found however it was
 * typed, and a Unicode local part (kept as it is) too.
 */
function patternContains(text: string) {
  const forms = [...new Set([text.toLowerCase(), storedSpellingOf(text)])];
  return sql<SqlBool>`(${sql.join(
    forms.map((form) => sql`pattern LIKE ${`%${likeEscape(form)}%`} ESCAPE '\\'`),
    sql` OR `,
  )})`;
}

/** Lists the rules in force (expired ones are left out): the caller's own, or the organisation's. Newest first. */
export async function listSenderRules(
  db: Kysely<Database>,
  actor: Actor,
  filter: SenderListFilter,
  now: Date,
): Promise<SenderRulePage> {
  let query = db
    .selectFrom("sender_rules")
    .selectAll()
    .select(sql<string>`created_at::text`.as("created_key"))
    .where("tenant_id", "=", actor.tenantId)
    .where("scope", "=", filter.scope)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]));
  query =
    filter.scope === "user" ? query.where("user_id", "=", actor.userId) : query.where("user_id", "is", null);
  if (filter.kind) query = query.where("kind", "=", filter.kind);
  if (filter.q) query = query.where(patternContains(filter.q));
  if (filter.cursor) {
    const at = decodeCursor(filter.cursor, "rules");
    query = query.where(olderThan(at, "created_at", "id"));
  }
  const rows = await query
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .limit(filter.limit + 1)
    .execute();
  const page: SenderRuleRow[] = rows.slice(0, filter.limit);
  const last = rows[page.length - 1];
  const nextCursor =
    rows.length > filter.limit && last
      ? encodeCursor({ sort: "rules", value: last.created_key, id: last.id })
      : null;
  return { rows: page, nextCursor };
}

/** Every rule in force of one list, for CSV export (capped at `max`). */
export async function allSenderRules(
  db: Kysely<Database>,
  actor: Actor,
  scope: SenderScope,
  now: Date,
  max = 50_000,
): Promise<SenderRuleRow[]> {
  let query = db
    .selectFrom("sender_rules")
    .selectAll()
    .where("tenant_id", "=", actor.tenantId)
    .where("scope", "=", scope)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]));
  query = scope === "user" ? query.where("user_id", "=", actor.userId) : query.where("user_id", "is", null);
  return query.orderBy("pattern").limit(max).execute();
}
