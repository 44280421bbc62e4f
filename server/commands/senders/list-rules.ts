import { sql, type Kysely } from "kysely";
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
  if (filter.q) query = query.where(sql<boolean>`pattern LIKE ${`%${likeEscape(filter.q)}%`} ESCAPE '\\'`);
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
