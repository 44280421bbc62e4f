import type { Kysely } from "kysely";
import type { Services } from "../../context";
import type { Database } from "../../db/schema";
import { appendAudit } from "../../audit/log";
import { verifyAgainstDummy, verifyPassword } from "../../auth/passwords";
import { matchTotpStep } from "../../auth/totp";
import { createSession, destroySession, type NewSession } from "../../auth/sessions";
import { ApiError } from "../../http/errors";
import type { LoginBody } from "../../../shared/schemas/auth";

/** Failures before an account locks, and how long it stays locked (tenant settings may override). */
export const LOCKOUT_DEFAULTS = { maxFailures: 5, lockMinutes: 15 } as const;

/** A finished sign-in: the new session and who signed in. */
export interface SignInResult {
  session: NewSession;
  user: { id: string; email: string; displayName: string };
}

/** Where a sign-in comes from. */
export interface SignInOrigin {
  ip: string | null;
  userAgent: string | null;
  /** The session cookie sent with the request, destroyed on success (rotation). */
  previousToken?: string;
}

async function recordFailure(db: Kysely<Database>, tenantId: string, userId: string, email: string, origin: SignInOrigin, reason: string, services: Services) {
  const now = services.now();
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable("users")
      .set((eb) => ({ failed_logins: eb("failed_logins", "+", 1) }))
      .where("id", "=", userId)
      .returning(["failed_logins"])
      .executeTakeFirstOrThrow();
    const locked = row.failed_logins >= LOCKOUT_DEFAULTS.maxFailures;
    if (locked) {
      await trx
        .updateTable("users")
        .set({ locked_until: new Date(now.getTime() + LOCKOUT_DEFAULTS.lockMinutes * 60_000), failed_logins: 0 })
        .where("id", "=", userId)
        .execute();
    }
    await appendAudit(trx, {
      tenantId,
      actorId: userId,
      actorLabel: email,
      action: locked ? "auth.locked" : "auth.sign_in_failed",
      targetType: "user",
      targetId: userId,
      details: { reason },
      ip: origin.ip,
      at: now,
    });
  });
}

/**
 * Local sign-in: password (argon2id), then TOTP when enrolled; lockout after
 * repeated failures; a fresh session every time. Every outcome is audited.
 */
export async function signIn(services: Services, input: LoginBody, origin: SignInOrigin): Promise<SignInResult> {
  const { db } = services;
  const now = services.now();
  const user = await db
    .selectFrom("users")
    .selectAll()
    .where((eb) => eb(eb.fn("lower", ["email"]), "=", input.email.toLowerCase()))
    .executeTakeFirst();
  if (!user || !user.password_hash) {
    await verifyAgainstDummy(input.password);
    throw new ApiError("invalid_credentials");
  }
  if (user.locked_until && new Date(user.locked_until) > now) throw new ApiError("account_locked");
  if (!(await verifyPassword(user.password_hash, input.password))) {
    await recordFailure(db, user.tenant_id, user.id, user.email, origin, "password", services);
    throw new ApiError("invalid_credentials");
  }
  if (user.disabled_at) throw new ApiError("account_disabled");
  let totpStep: number | null = null;
  if (user.totp_enabled && user.totp_secret) {
    if (!input.totp) throw new ApiError("mfa_required");
    totpStep = matchTotpStep(user.totp_secret, input.totp, now);
    const replayed = totpStep !== null && user.totp_last_step !== null && totpStep <= Number(user.totp_last_step);
    if (totpStep === null || replayed) {
      await recordFailure(db, user.tenant_id, user.id, user.email, origin, replayed ? "totp_replay" : "totp", services);
      throw new ApiError("invalid_mfa_code");
    }
  }
  return db.transaction().execute(async (trx) => {
    if (origin.previousToken) await destroySession(trx, origin.previousToken);
    if (totpStep !== null) {
      // Conditional update: of two concurrent sign-ins with one code, only the first wins.
      const step = totpStep;
      const claimed = await trx
        .updateTable("users")
        .set({ totp_last_step: step })
        .where("id", "=", user.id)
        .where((eb) => eb.or([eb("totp_last_step", "is", null), eb("totp_last_step", "<", step)]))
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) throw new ApiError("invalid_mfa_code");
    }
    await trx.updateTable("users").set({ failed_logins: 0, locked_until: null }).where("id", "=", user.id).execute();
    const session = await createSession(trx, {
      tenantId: user.tenant_id,
      userId: user.id,
      ip: origin.ip,
      userAgent: origin.userAgent,
      ttlHours: services.config.MAILWARD_SESSION_TTL_HOURS,
      now,
    });
    await appendAudit(trx, {
      tenantId: user.tenant_id,
      actorId: user.id,
      actorLabel: user.email,
      action: "auth.sign_in",
      targetType: "user",
      targetId: user.id,
      details: { method: totpStep !== null ? "password+totp" : "password" },
      ip: origin.ip,
      at: now,
    });
    return { session, user: { id: user.id, email: user.email, displayName: user.display_name } };
  });
}
