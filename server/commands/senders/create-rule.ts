import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import type { SenderKind, SenderScope } from "../../../shared/schemas/senders";
import { assertNotSpoofing, assertPermitNotTooBroad, canonicalPattern } from "./patterns";
import { upsertSenderRule, type SenderRuleUpsert } from "./upsert";

/** Input of POST /api/senders and /api/admin/senders. */
export interface CreateSenderRuleInput {
  scope: SenderScope;
  pattern: string;
  kind: SenderKind;
  expiresAt?: string | undefined;
  source?: "manual" | "import";
}

/** Checks a requested expiry: a time in the future, or none. */
export function expiryOf(expiresAt: string | undefined, now: Date): Date | null {
  if (expiresAt === undefined) return null;
  const at = new Date(expiresAt);
  if (Number.isNaN(at.getTime()) || at.getTime() <= now.getTime()) {
    throw new ApiError("invalid_request", "expiresAt must be in the future.", { field: "expiresAt" });
  }
  return at;
}

/**
 * Adds a personal (scope user) or organisation (scope tenant) block/permit rule. The
 * pattern is canonicalised, a permit of one's own address or domain or of a whole
 * public suffix is refused, and an identical rule is returned unchanged
 * (idempotent). Audited.
 */
export async function createSenderRule(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: CreateSenderRuleInput,
): Promise<SenderRuleUpsert> {
  const pattern = canonicalPattern(input.pattern);
  return runCommand(services, actor, ip, async ({ trx, now }) => {
    const expiresAt = expiryOf(input.expiresAt, now);
    if (input.kind === "permit") {
      assertPermitNotTooBroad(pattern);
      await assertNotSpoofing(trx, actor.tenantId, input.scope === "user" ? actor.email : null, pattern);
    }
    const result = await upsertSenderRule(
      trx,
      {
        tenantId: actor.tenantId,
        scope: input.scope,
        userId: input.scope === "user" ? actor.userId : null,
        kind: input.kind,
        pattern: pattern.pattern,
        expiresAt,
        createdBy: actor.userId,
        source: input.source ?? "manual",
        onOtherKind: "refuse",
      },
      now,
    );
    if (result.outcome !== "unchanged") {
      await appendAudit(trx, {
        tenantId: actor.tenantId,
        actorId: actor.userId,
        actorLabel: actorLabel(actor),
        action: input.scope === "user" ? "senders.add" : "admin.senders.add",
        targetType: "sender_rule",
        targetId: result.rule.id,
        details: {
          pattern: pattern.pattern,
          kind: input.kind,
          outcome: result.outcome,
          expiresAt: expiresAt?.toISOString() ?? null,
        },
        ip,
        at: now,
      });
    }
    return result;
  });
}
