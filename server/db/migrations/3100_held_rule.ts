import { sql, type Kysely } from "kysely";
import { runStatements } from "../migrate-helpers";

/**
 * The sender rule behind a `blocked_sender` hold, and whose it is: `tenant` (the organisation's block, precedence
 * row 2 with `orgBlockAction: "hold"`, or a reject held because other recipients took the message) or `user` (the
 * recipient's own, row 4). An organisation's block is IT's decision: its recipient asks for a release instead of
 * releasing it (policies/mail.ts). Null: no rule held it (or a hold from before this migration the stored verdict
 * does not explain). No foreign key: the rule may be deleted later, the hold keeps who made it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await runStatements(db, [
    `ALTER TABLE held_items ADD COLUMN rule_id uuid`,
    `ALTER TABLE held_items ADD COLUMN rule_scope text CHECK (rule_scope IN ('user', 'tenant'))`,
  ]);
  await backfillHeldRules(db);
}

/**
 * Fills `rule_id`/`rule_scope` of the `blocked_sender` holds that lack them from the verdict stored on their message
 * (`messages.assessment.decisions[]`: the recipient's decision names its rule as `{id, scope, kind}`). A hold whose
 * message has no such record (a Graph sweep of mail already in the inbox, an odd record) stays null: its recipient
 * may release it, as before.
 */
export async function backfillHeldRules<DB>(db: Kysely<DB>): Promise<void> {
  await sql`UPDATE held_items h
    SET rule_scope = d.value->'rule'->>'scope',
        rule_id = CASE WHEN d.value->'rule'->>'id' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
          THEN (d.value->'rule'->>'id')::uuid END
    FROM messages m
    CROSS JOIN LATERAL jsonb_array_elements(
      CASE WHEN jsonb_typeof(m.assessment->'decisions') = 'array' THEN m.assessment->'decisions' ELSE '[]'::jsonb END
    ) AS d(value)
    WHERE m.id = h.message_id
      AND h.reason = 'blocked_sender'
      AND h.rule_scope IS NULL
      AND jsonb_typeof(m.assessment) = 'object'
      AND lower(d.value->>'recipient') = lower(h.recipient)
      AND d.value->>'reason' = 'blocked_sender'
      AND jsonb_typeof(d.value->'rule') = 'object'
      AND d.value->'rule'->>'kind' = 'block'
      AND d.value->'rule'->>'scope' IN ('user', 'tenant')`.execute(db);
}
