import { sql } from "kysely";
import type { Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { matchTotpStep } from "../../auth/totp";
import { openTotpSecret } from "../../auth/totp-at-rest";
import { createSession, destroySession, type NewSession } from "../../auth/sessions";
import { hashRecoveryCode, looksLikeRecoveryCode } from "../../auth/recovery-codes";
import { mfaFactsOf, totpRequiredFor } from "../../auth/mfa-policy";
import { ApiError } from "../../http/errors";
import type { LoginBody } from "../../../shared/schemas/auth";
import { recordFailure, releaseSignInAttempt, type FailureContext } from "./lockout";
import { passwordAccount } from "./password-account";

/** A finished sign-in: the new session and who signed in. */
export interface SignInResult {
  session: NewSession;
  user: { id: string; email: string; displayName: string };
  /** True when the session may only enrol TOTP (an admin role without it; see server/auth/mfa-policy.ts). */
  mfaEnrolmentRequired: boolean;
}

/** Where a sign-in comes from. */
export interface SignInOrigin {
  ip: string | null;
  userAgent: string | null;
  /** The session cookie sent with the request, destroyed on success (rotation). */
  previousToken?: string;
}

type SecondFactor = { kind: "none" } | { kind: "totp"; step: number } | { kind: "recovery"; hash: string };

/**
 * Local sign-in: password (argon2id), then TOTP or a one-time recovery code when
 * enrolled; lockout after repeated failures; a fresh session every time (the
 * previous cookie's session is destroyed). An admin role without TOTP gets a
 * restricted session that can only enrol. Every outcome is audited.
 */
export async function signIn(
  services: Services,
  input: LoginBody,
  origin: SignInOrigin,
): Promise<SignInResult> {
  const { db } = services;
  const now = services.now();
  const { user, claim } = await passwordAccount(services, input.email, input.password, origin);
  const failure = (reason: string): FailureContext => ({
    tenantId: user.tenant_id,
    userId: user.id,
    email: user.email,
    origin,
    reason,
    claim,
  });
  if (user.disabled_at) throw new ApiError("account_disabled");
  let factor: SecondFactor = { kind: "none" };
  if (user.totp_enabled && user.totp_secret) {
    if (!input.totp) {
      // The right password, the code still to come: no wrong guess, so the attempt is given back.
      await releaseSignInAttempt(db, services, user.id, claim);
      throw new ApiError("mfa_required");
    }
    if (looksLikeRecoveryCode(input.totp)) {
      const hash = hashRecoveryCode(input.totp);
      if (!user.recovery_codes.includes(hash)) {
        await recordFailure(db, services, failure("recovery_code"));
        throw new ApiError("invalid_mfa_code");
      }
      factor = { kind: "recovery", hash };
    } else {
      const secret = openTotpSecret(services.secretKey, user.id, user.totp_secret);
      if (secret === null) {
        services.logger.warn(
          { userId: user.id },
          "a stored TOTP secret does not decrypt; the person must re-enrol",
        );
      }
      const step = secret === null ? null : matchTotpStep(secret, input.totp, now);
      const replayed = step !== null && user.totp_last_step !== null && step <= Number(user.totp_last_step);
      if (step === null || replayed) {
        await recordFailure(db, services, failure(replayed ? "totp_replay" : "totp"));
        throw new ApiError("invalid_mfa_code");
      }
      factor = { kind: "totp", step };
    }
  }
  const facts = await mfaFactsOf(db, user.id);
  const restricted = !user.totp_enabled && totpRequiredFor(services.config, facts.roles, facts.hasGrants);
  return db.transaction().execute(async (trx) => {
    if (origin.previousToken) await destroySession(trx, origin.previousToken);
    if (factor.kind === "totp") {
      // Conditional update: of two concurrent sign-ins with one code, only the first wins.
      const step = factor.step;
      const claimed = await trx
        .updateTable("users")
        .set({ totp_last_step: step })
        .where("id", "=", user.id)
        .where((eb) => eb.or([eb("totp_last_step", "is", null), eb("totp_last_step", "<", step)]))
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) throw new ApiError("invalid_mfa_code");
    }
    if (factor.kind === "recovery") {
      // Single use: removing the hash is conditional on it still being there.
      const used = await trx
        .updateTable("users")
        .set({ recovery_codes: sql<string>`recovery_codes - ${factor.hash}::text` })
        .where("id", "=", user.id)
        .where(sql<boolean>`recovery_codes @> jsonb_build_array(${factor.hash}::text)`)
        .executeTakeFirst();
      if (Number(used.numUpdatedRows) !== 1) throw new ApiError("invalid_mfa_code");
    }
    await trx
      .updateTable("users")
      .set({ failed_logins: 0, locked_until: null, last_sign_in_at: now })
      .where("id", "=", user.id)
      .execute();
    const session = await createSession(trx, {
      tenantId: user.tenant_id,
      userId: user.id,
      ip: origin.ip,
      userAgent: origin.userAgent,
      ttlHours: restricted ? 1 : services.config.MAILWARD_SESSION_TTL_HOURS,
      now,
      stage: restricted ? "mfa_enrolment" : "full",
    });
    const method = { none: "password", totp: "password+totp", recovery: "password+recovery_code" }[
      factor.kind
    ];
    await appendAudit(trx, {
      tenantId: user.tenant_id,
      actorId: user.id,
      actorLabel: user.email,
      action: "auth.sign_in",
      targetType: "user",
      targetId: user.id,
      details: { method, ...(restricted ? { restricted: "mfa_enrolment" } : {}) },
      ip: origin.ip,
      at: now,
    });
    return {
      session,
      user: { id: user.id, email: user.email, displayName: user.display_name },
      mfaEnrolmentRequired: restricted,
    };
  });
}
