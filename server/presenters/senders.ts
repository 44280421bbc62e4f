import type { SenderRule } from "../../shared/schemas/senders";
import { SENDER_RULE_SOURCES } from "../../shared/schemas/senders";
import type { SenderRuleRow } from "../commands/senders/upsert";

type Source = (typeof SENDER_RULE_SOURCES)[number];

function sourceOf(value: string): Source {
  return (SENDER_RULE_SOURCES as readonly string[]).includes(value) ? (value as Source) : "manual";
}

/** The JSON of one sender rule (shared/schemas/senders `senderRule`). */
export function presentSenderRule(row: SenderRuleRow): SenderRule {
  return {
    id: row.id,
    pattern: row.pattern,
    kind: row.kind,
    expiresAt: row.expires_at ? new Date(row.expires_at).toISOString() : null,
    scope: row.scope,
    createdAt: new Date(row.created_at).toISOString(),
    source: sourceOf(row.source),
  };
}
