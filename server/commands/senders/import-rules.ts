import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { normalizeSenderPattern } from "../../mail/scan/sender-patterns";
import type { SenderImportResult, SenderScope } from "../../../shared/schemas/senders";
import { parseSenderCsv, SENDER_CSV_MAX_LINES } from "./csv";
import { assertNotSpoofing, assertPermitNotTooBroad } from "./patterns";
import { upsertSenderRule } from "./upsert";

/**
 * Imports a CSV into the caller's own list or the organisation's. Each line is checked
 * like a single POST (pattern, kind, future expiry, no self-permit, no permit of a
 * public suffix, and a live rule of the other kind for the pattern is a conflict,
 * `already_exists`, left as it is); bad lines are reported by number and skipped, the good ones
 * committed together. Audited once.
 */
export async function importSenderRules(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: { scope: SenderScope; csv: string },
): Promise<SenderImportResult> {
  const lines = parseSenderCsv(input.csv);
  if (lines.length > SENDER_CSV_MAX_LINES) {
    throw new ApiError("invalid_request", `An import may carry at most ${SENDER_CSV_MAX_LINES} rules.`, {
      lines: lines.length,
    });
  }
  return runCommand(services, actor, ip, async ({ trx, now }) => {
    const result: SenderImportResult = { created: 0, updated: 0, unchanged: 0, errors: [] };
    for (const line of lines) {
      const refuse = (error: string, message: string) =>
        result.errors.push({ line: line.line, error, message });
      const pattern = normalizeSenderPattern(line.pattern);
      if (!pattern.ok) {
        refuse("invalid_request", pattern.error.message);
        continue;
      }
      if (line.kind !== "block" && line.kind !== "permit") {
        refuse("invalid_request", "kind must be block or permit.");
        continue;
      }
      let expiresAt: Date | null = null;
      if (line.expiresAt !== "") {
        expiresAt = new Date(line.expiresAt);
        if (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= now.getTime()) {
          refuse("invalid_request", "expires_at must be a time in the future.");
          continue;
        }
      }
      try {
        if (line.kind === "permit") {
          assertPermitNotTooBroad(pattern.value);
          await assertNotSpoofing(
            trx,
            actor.tenantId,
            input.scope === "user" ? actor.email : null,
            pattern.value,
          );
        }
        const upsert = await upsertSenderRule(
          trx,
          {
            tenantId: actor.tenantId,
            scope: input.scope,
            userId: input.scope === "user" ? actor.userId : null,
            kind: line.kind,
            pattern: pattern.value.pattern,
            expiresAt,
            createdBy: actor.userId,
            source: "import",
            // As POST /api/senders answers 409: a rule of the other kind is the person's (or IT's) to remove first.
            onOtherKind: "refuse",
          },
          now,
        );
        result[upsert.outcome] += 1;
      } catch (err) {
        if (err instanceof ApiError) refuse(err.id, err.message);
        else throw err;
      }
    }
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: input.scope === "user" ? "senders.import" : "admin.senders.import",
      targetType: "sender_list",
      targetId: input.scope === "user" ? actor.userId : actor.tenantId,
      details: {
        created: result.created,
        updated: result.updated,
        unchanged: result.unchanged,
        refused: result.errors.length,
      },
      ip,
      at: now,
    });
    return result;
  });
}
