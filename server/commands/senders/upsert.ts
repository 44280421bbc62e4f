import type { Selectable, Transaction } from "kysely";
import type { Database, SenderRulesTable } from "../../db/schema";
import { ApiError } from "../../http/errors";
import type { SenderKind } from "../../../shared/schemas/senders";

/** A stored sender rule row. */
export type SenderRuleRow = Selectable<SenderRulesTable>;

/** What `upsertSenderRule` should write. `pattern` must already be canonical (see canonicalPattern). */
export interface SenderRuleWrite {
  tenantId: string;
  scope: "user" | "tenant";
  userId: string | null;
  kind: SenderKind;
  pattern: string;
  expiresAt: Date | null;
  createdBy: string | null;
  source: string;
  /** When a live rule of the other kind exists: switch it (held actions) or refuse with 409 (the list API). */
  onOtherKind: "switch" | "refuse";
  /**
   * When a live rule of the same kind exists: replace its expiry, author and source (the default: the person set
   * this rule), or only ever extend its expiry and keep the rest (an automatic rule must not shorten a person's own).
   */
  onSameKind?: "replace" | "extend";
}

/** The rule as stored now and what the call changed. */
export interface SenderRuleUpsert {
  rule: SenderRuleRow;
  outcome: "created" | "updated" | "unchanged";
  /** The rule as it was before an update changed it (null unless `outcome` is "updated"). */
  previous: SenderRuleRow | null;
}

function sameTime(a: Date | null, b: Date | null): boolean {
  return (a?.getTime() ?? null) === (b?.getTime() ?? null);
}

/** True when an expiry lasts at least as long as another (null: never expires). */
function lastsAtLeast(expiry: Date | null, other: Date | null): boolean {
  if (expiry === null) return true;
  return other !== null && expiry.getTime() >= other.getTime();
}

/** The stored rule for the write's (scope, person, pattern), locked for this transaction; undefined when none. */
async function lockedRule(
  trx: Transaction<Database>,
  write: SenderRuleWrite,
): Promise<SenderRuleRow | undefined> {
  let query = trx
    .selectFrom("sender_rules")
    .selectAll()
    .where("tenant_id", "=", write.tenantId)
    .where("scope", "=", write.scope)
    .where("pattern", "=", write.pattern);
  query =
    write.userId === null ? query.where("user_id", "is", null) : query.where("user_id", "=", write.userId);
  return query.forUpdate().executeTakeFirst();
}

/**
 * Creates a sender rule, or reconciles it with the one already stored for the
 * same (scope, person, pattern): same kind → expiry refreshed (idempotent), or with
 * `onSameKind: "extend"` only lengthened; other kind → switched or refused; an
 * expired leftover is simply replaced. Safe when two transactions write the same
 * new rule at once: the second reconciles with the first's.
 */
export async function upsertSenderRule(
  trx: Transaction<Database>,
  write: SenderRuleWrite,
  now: Date,
): Promise<SenderRuleUpsert> {
  let existing = await lockedRule(trx, write);
  if (!existing) {
    const inserted = await trx
      .insertInto("sender_rules")
      .values({
        tenant_id: write.tenantId,
        scope: write.scope,
        user_id: write.userId,
        kind: write.kind,
        pattern: write.pattern,
        expires_at: write.expiresAt,
        created_by: write.createdBy,
        source: write.source,
      })
      .onConflict((conflict) => conflict.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) {
      for (const listener of ruleListeners) await listener(trx, inserted);
      return { rule: inserted, outcome: "created", previous: null };
    }
    // Another transaction added the same rule after our look-up found none (a double click, two releases at once):
    // the insert waited for it to commit, so the rule is there now to reconcile with.
    existing = await lockedRule(trx, write);
    if (!existing) throw new Error(`sender rule ${write.pattern} conflicted on insert but cannot be found`);
  }
  const live = existing.expires_at === null || new Date(existing.expires_at).getTime() > now.getTime();
  const existingExpiry = existing.expires_at ? new Date(existing.expires_at) : null;
  if (live && existing.kind === write.kind && sameTime(existingExpiry, write.expiresAt)) {
    return { rule: existing, outcome: "unchanged", previous: null };
  }
  if (live && existing.kind === write.kind && write.onSameKind === "extend") {
    if (lastsAtLeast(existingExpiry, write.expiresAt))
      return { rule: existing, outcome: "unchanged", previous: null };
    const rule = await trx
      .updateTable("sender_rules")
      .set({ expires_at: write.expiresAt })
      .where("id", "=", existing.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    for (const listener of ruleListeners) await listener(trx, rule);
    return { rule, outcome: "updated", previous: existing };
  }
  if (live && existing.kind !== write.kind && write.onOtherKind === "refuse") {
    const list = existing.kind === "block" ? "block list" : "permit list";
    throw new ApiError(
      "already_exists",
      `${write.pattern} is already on the ${list}. Remove it there first.`,
    );
  }
  const rule = await trx
    .updateTable("sender_rules")
    .set({
      kind: write.kind,
      expires_at: write.expiresAt,
      created_by: write.createdBy,
      source: write.source,
      created_at: now,
    })
    .where("id", "=", existing.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  for (const listener of ruleListeners) await listener(trx, rule);
  return { rule, outcome: "updated", previous: existing };
}

/** Told in the transaction when a rule was created or changed (the Graph connector sweeps a blocked sender's inbox mail). */
export type SenderRuleListener = (trx: Transaction<Database>, rule: SenderRuleRow) => Promise<void>;

const ruleListeners = new Set<SenderRuleListener>();

/** Registers a rule listener; returns the function that removes it. */
export function onSenderRuleWritten(listener: SenderRuleListener): () => void {
  ruleListeners.add(listener);
  return () => ruleListeners.delete(listener);
}
