import type { Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { createSession, destroySession, type NewSession } from "../../auth/sessions";
import { resolveEntraUser, type EntraIdentity } from "../../auth/entra/users";
import type { EntraSettings } from "../../auth/entra/settings";
import { ApiError } from "../../http/errors";
import type { SignInOrigin } from "./sign-in";

/**
 * Portal sign-in with Entra: maps (or JIT-creates) the person, then opens a
 * fresh full session (the previous cookie's session is destroyed: rotation).
 * MFA is Entra's job (Conditional Access), so the session is never restricted. Audited.
 */
export async function signInWithEntra(
  services: Services,
  settings: EntraSettings,
  identity: EntraIdentity,
  origin: SignInOrigin,
): Promise<{ session: NewSession; userId: string }> {
  const { userId, tenantId } = await resolveEntraUser(services, identity, settings, origin.ip);
  return services.db.transaction().execute(async (trx) => {
    const now = services.now();
    const user = await trx
      .selectFrom("users")
      .select(["email", "disabled_at"])
      .where("id", "=", userId)
      .executeTakeFirstOrThrow();
    if (user.disabled_at) throw new ApiError("account_disabled");
    if (origin.previousToken) await destroySession(trx, origin.previousToken);
    await trx.updateTable("users").set({ last_sign_in_at: now }).where("id", "=", userId).execute();
    const session = await createSession(trx, {
      tenantId,
      userId,
      ip: origin.ip,
      userAgent: origin.userAgent,
      ttlHours: services.config.MAILWARD_SESSION_TTL_HOURS,
      now,
    });
    await appendAudit(trx, {
      tenantId,
      actorId: userId,
      actorLabel: user.email,
      action: "auth.sign_in",
      targetType: "user",
      targetId: userId,
      details: { method: "entra", entraTenantId: identity.tenantId },
      ip: origin.ip,
      at: now,
    });
    return { session, userId };
  });
}
