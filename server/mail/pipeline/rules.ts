import type { Kysely, Transaction } from "kysely";
import type { Database } from "../../db/schema";
import type { SenderRule, SenderRuleSets } from "../scan/types";

/** The organisation's rules and each listed user's own rules, as `decide` takes them. */
export interface LoadedSenderRules {
  org: SenderRule[];
  personal: Map<string, SenderRule[]>;
}

/**
 * Loads the active (unexpired) sender rules of a tenant: organisation-wide, and
 * personal for the given users only. Read for every group commit, just before its write (never
 * cached), so a rule added a moment ago applies to the next message.
 */
export async function loadSenderRules(
  db: Transaction<Database> | Kysely<Database>,
  tenantId: string,
  userIds: readonly string[],
  now: Date,
): Promise<LoadedSenderRules> {
  const rows = await db
    .selectFrom("sender_rules")
    .select(["id", "scope", "user_id", "kind", "pattern", "expires_at"])
    .where("tenant_id", "=", tenantId)
    .where((eb) =>
      eb.or([
        eb("scope", "=", "tenant"),
        ...(userIds.length > 0
          ? [eb.and([eb("scope", "=", "user"), eb("user_id", "in", [...new Set(userIds)])])]
          : []),
      ]),
    )
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]))
    .execute();
  const loaded: LoadedSenderRules = { org: [], personal: new Map() };
  for (const row of rows) {
    const rule: SenderRule = {
      id: row.id,
      scope: row.scope,
      kind: row.kind,
      pattern: row.pattern,
      expiresAt: row.expires_at,
    };
    if (row.scope === "tenant") {
      loaded.org.push(rule);
    } else if (row.user_id) {
      rule.userId = row.user_id;
      const list = loaded.personal.get(row.user_id) ?? [];
      list.push(rule);
      loaded.personal.set(row.user_id, list);
    }
  }
  return loaded;
}

/** The two rule sets `decide` consults for one recipient (no personal rules for someone who is not a user). */
export function ruleSetsFor(rules: LoadedSenderRules, userId: string | null): SenderRuleSets {
  return { org: rules.org, personal: userId ? (rules.personal.get(userId) ?? []) : [] };
}
