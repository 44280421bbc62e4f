import type { Transaction } from "kysely";
import type { Database } from "../../db/schema";
import type { SenderRuleRow } from "../senders/upsert";
import { storedJsonObject } from "../../db/jsonb-safe";

/**
 * A sender rule as it was before a report's `block: true` switched or refreshed it (`reports.replaced_rule`). Undo
 * puts it back: the person's own permit, or their own time-limited block, is theirs again.
 */
export interface ReplacedRule {
  kind: "block" | "permit";
  expiresAt: string | null;
  source: string;
  createdBy: string | null;
  createdAt: string;
}

/** The JSON stored in `reports.replaced_rule` for the rule as it was before the report changed it. */
export function replacedRuleJson(before: SenderRuleRow): string {
  const rule: ReplacedRule = {
    kind: before.kind,
    expiresAt: before.expires_at ? new Date(before.expires_at).toISOString() : null,
    source: before.source,
    createdBy: before.created_by,
    createdAt: new Date(before.created_at).toISOString(),
  };
  return JSON.stringify(rule);
}

/** A stored replaced rule read back; null when the column is empty or malformed. */
export function replacedRuleOf(value: unknown): ReplacedRule | null {
  const r = storedJsonObject(value);
  if (!r) return null;
  if (r.kind !== "block" && r.kind !== "permit") return null;
  if (typeof r.source !== "string" || typeof r.createdAt !== "string") return null;
  if (r.expiresAt !== null && typeof r.expiresAt !== "string") return null;
  if (r.createdBy !== null && typeof r.createdBy !== "string") return null;
  return {
    kind: r.kind,
    expiresAt: r.expiresAt,
    source: r.source,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
  };
}

/**
 * Takes back what a report's block did to a rule of the reporter's: puts the replaced rule back, or removes the block
 * the report created. Only while the rule is still the report's block (the person may have changed it since).
 */
export async function undoReportBlock(
  trx: Transaction<Database>,
  ruleId: string,
  userId: string,
  replaced: ReplacedRule | null,
): Promise<void> {
  if (replaced) {
    await trx
      .updateTable("sender_rules")
      .set({
        kind: replaced.kind,
        expires_at: replaced.expiresAt,
        source: replaced.source,
        created_by: replaced.createdBy,
        created_at: replaced.createdAt,
      })
      .where("id", "=", ruleId)
      .where("user_id", "=", userId)
      .where("kind", "=", "block")
      .where("source", "=", "report")
      .execute();
    return;
  }
  await trx
    .deleteFrom("sender_rules")
    .where("id", "=", ruleId)
    .where("user_id", "=", userId)
    .where("kind", "=", "block")
    .where("source", "=", "report")
    .execute();
}
