import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";

/** Sets the caller's security phrase, shown in every digest so that a fake quarantine notice is recognisable. Audited (without the phrase). */
export async function setSecurityPhrase(
  services: Services,
  actor: Actor,
  ip: string | null,
  phrase: string,
): Promise<void> {
  await runCommand(services, actor, ip, async ({ trx, now }) => {
    await trx
      .updateTable("users")
      .set({ security_phrase: phrase, updated_at: now })
      .where("id", "=", actor.userId)
      .execute();
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: "me.security_phrase_set",
      targetType: "user",
      targetId: actor.userId,
      details: { length: phrase.length },
      ip,
      at: now,
    });
  });
}
