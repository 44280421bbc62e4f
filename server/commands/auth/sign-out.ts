import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { destroySession } from "../../auth/sessions";

/** Ends the caller's cookie session (a bearer caller has none to end) and audits it. */
export async function signOut(
  services: Services,
  actor: Actor,
  ip: string | null,
  token: string | undefined,
) {
  await runCommand(services, actor, ip, async ({ trx, now }) => {
    if (token) await destroySession(trx, token);
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: "auth.sign_out",
      targetType: "user",
      targetId: actor.userId,
      ip,
      at: now,
    });
  });
}
