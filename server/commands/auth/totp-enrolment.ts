import QRCode from "qrcode";
import { sql } from "kysely";
import { actorLabel, runCommand, type Actor, type CommandContext, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { matchTotpStep, newTotpSecret, totpFor } from "../../auth/totp";
import { openTotpSecret, sealTotpSecret } from "../../auth/totp-at-rest";
import { generateRecoveryCodes } from "../../auth/recovery-codes";
import { createSession, destroyUserSessions, type NewSession } from "../../auth/sessions";
import { ApiError } from "../../http/errors";
import { signedInRecently } from "../../policies/step-up";
import { revokeAllSmtpPasswords } from "../me/smtp-passwords";
import { runCodeCheckedCommand, WrongCodeError } from "./code-attempt";

/** A started enrolment: the secret (shown once), its otpauth:// URI and a QR code PNG as a data URL. */
export interface TotpEnrolmentStarted {
  secret: string;
  otpauthUri: string;
  qrDataUrl: string;
}

/**
 * A confirmed enrolment: recovery codes (shown once), for cookie sessions the rotated session, and how many SMTP
 * passwords it revoked (made before the second factor, so the person is told to make new ones).
 */
export interface TotpEnrolmentConfirmed {
  recoveryCodes: string[];
  session: NewSession | null;
  smtpPasswordsRevoked: number;
}

async function localAccount(ctx: CommandContext) {
  const user = await ctx.trx
    .selectFrom("users")
    .select(["id", "email", "password_hash", "totp_enabled", "totp_secret", "totp_last_step"])
    .where("id", "=", ctx.actor.userId)
    .forUpdate()
    .executeTakeFirst();
  if (!user) throw new ApiError("not_found");
  if (!user.password_hash || ctx.actor.via === "bearer") {
    throw new ApiError(
      "invalid_request",
      "Accounts that sign in with Microsoft use Microsoft's own multi-factor authentication.",
    );
  }
  return user;
}

function audit(ctx: CommandContext, action: string, details: Record<string, unknown> = {}) {
  return appendAudit(ctx.trx, {
    tenantId: ctx.actor.tenantId,
    actorId: ctx.actor.userId,
    actorLabel: actorLabel(ctx.actor),
    action,
    targetType: "user",
    targetId: ctx.actor.userId,
    details,
    ip: ctx.ip,
    at: ctx.now,
  });
}

/**
 * Starts TOTP enrolment for a local account: a new pending secret (not active until confirmed). Audited. Refused
 * without a recent sign-in (signedInRecently): a stolen session must not set a second factor only the thief holds.
 */
export async function startTotpEnrolment(
  services: Services,
  actor: Actor,
  ip: string | null,
): Promise<TotpEnrolmentStarted> {
  const secret = newTotpSecret();
  await runCommand(services, actor, ip, async (ctx) => {
    const user = await localAccount(ctx);
    if (user.totp_enabled) throw new ApiError("totp_already_enabled");
    if (!signedInRecently(ctx.actor, ctx.now, services.config.MAILWARD_RECENT_SIGN_IN_MINUTES))
      throw new ApiError("recent_sign_in_required");
    await ctx.trx
      .updateTable("users")
      .set({ totp_secret: sealTotpSecret(services.secretKey, user.id, secret), updated_at: ctx.now })
      .where("id", "=", user.id)
      .execute();
    await audit(ctx, "mfa.totp_enrolment_started");
  });
  const otpauthUri = totpFor(secret, actor.email).toString();
  return {
    secret,
    otpauthUri,
    qrDataUrl: await QRCode.toDataURL(otpauthUri, { errorCorrectionLevel: "M", margin: 2, width: 240 }),
  };
}

/**
 * Checks a code against a user's stored (sealed) secret, refusing a step at or before the last one used (no replay).
 * A secret that does not open (another key, another user's row) refuses the code like a wrong one. A refusal is a
 * WrongCodeError, which runCodeCheckedCommand counts against the lockout.
 */
function acceptCode(
  ctx: CommandContext,
  user: { id: string; totp_secret: string; totp_last_step: number | null },
  code: string,
): number {
  const secret = openTotpSecret(ctx.services.secretKey, user.id, user.totp_secret);
  if (secret === null) {
    ctx.services.logger.warn(
      { userId: user.id },
      "a stored TOTP secret does not decrypt; the person must re-enrol",
    );
    throw new WrongCodeError(false);
  }
  const lastStep = user.totp_last_step;
  const step = matchTotpStep(secret, code, ctx.now);
  if (step === null) throw new WrongCodeError(false);
  if (lastStep !== null && step <= Number(lastStep)) throw new WrongCodeError(true);
  return step;
}

/**
 * Confirms enrolment with the first code: activates TOTP, issues one-time
 * recovery codes (stored hashed), ends the person's other sessions, revokes their SMTP passwords and rotates the
 * current cookie session (a restricted one becomes full). The code's step is recorded so it cannot sign in again.
 * Audited, with how many sessions ended and SMTP passwords were revoked.
 */
export async function confirmTotpEnrolment(
  services: Services,
  actor: Actor,
  ip: string | null,
  code: string,
  userAgent: string | null,
): Promise<TotpEnrolmentConfirmed> {
  const { codes, hashes } = generateRecoveryCodes();
  return runCodeCheckedCommand(services, actor, ip, "totp_confirm", async (ctx) => {
    const user = await localAccount(ctx);
    if (user.totp_enabled) throw new ApiError("totp_already_enabled");
    if (!user.totp_secret) throw new ApiError("totp_not_started");
    const step = acceptCode(ctx, { ...user, totp_secret: user.totp_secret }, code);
    await ctx.trx
      .updateTable("users")
      .set({
        totp_enabled: true,
        totp_last_step: step,
        recovery_codes: JSON.stringify(hashes),
        updated_at: ctx.now,
      })
      .where("id", "=", user.id)
      .execute();
    // Sessions opened with the password alone (perhaps by whoever made the person enrol, having learnt it) end: from
    // now on a sign-in needs the authenticator. The one enrolling continues, rotated below.
    const current = actor.via === "session" ? actor.sessionId : undefined;
    const sessionsEnded = await destroyUserSessions(ctx.trx, user.id, current);
    // For the same reason its SMTP passwords go: one made before now needed only the password (and a session made
    // with it), and would keep sending as the person without the authenticator. They make new ones once enrolled.
    const smtpPasswordsRevoked = await revokeAllSmtpPasswords(ctx.trx, user.id, ctx.now);
    let session: NewSession | null = null;
    if (actor.via === "session" && actor.sessionId) {
      await ctx.trx.deleteFrom("sessions").where("id", "=", actor.sessionId).execute();
      session = await createSession(ctx.trx, {
        tenantId: actor.tenantId,
        userId: actor.userId,
        ip,
        userAgent,
        ttlHours: services.config.MAILWARD_SESSION_TTL_HOURS,
        now: ctx.now,
        // A code from the authenticator is no new sign-in: the password was last given when the old session began.
        signedInAt: actor.signedInAt ?? ctx.now,
      });
    }
    await audit(ctx, "mfa.totp_enabled", {
      recoveryCodes: hashes.length,
      sessionRotated: session !== null,
      sessionsEnded,
      smtpPasswordsRevoked,
    });
    return { recoveryCodes: codes, session, smtpPasswordsRevoked };
  });
}

/**
 * Replaces the recovery codes (the old ones stop working); needs a fresh TOTP code and a recent sign-in (a stolen
 * session must not turn into lasting second factors). A wrong code counts towards the sign-in lockout and is audited
 * as a failed sign-in (runCodeCheckedCommand), so a session cannot guess codes. Audited.
 */
export async function regenerateRecoveryCodes(
  services: Services,
  actor: Actor,
  ip: string | null,
  code: string,
): Promise<string[]> {
  const { codes, hashes } = generateRecoveryCodes();
  if (!signedInRecently(actor, services.now(), services.config.MAILWARD_RECENT_SIGN_IN_MINUTES))
    throw new ApiError("recent_sign_in_required");
  return runCodeCheckedCommand(services, actor, ip, "totp_regenerate", async (ctx) => {
    const user = await localAccount(ctx);
    if (!user.totp_enabled || !user.totp_secret)
      throw new ApiError("totp_not_started", "Enrol an authenticator app first.");
    const step = acceptCode(ctx, { ...user, totp_secret: user.totp_secret }, code);
    await ctx.trx
      .updateTable("users")
      .set({
        totp_last_step: step,
        recovery_codes: sql<string>`${JSON.stringify(hashes)}::jsonb`,
        updated_at: ctx.now,
      })
      .where("id", "=", user.id)
      .execute();
    await audit(ctx, "mfa.recovery_codes_regenerated", { recoveryCodes: hashes.length });
    return codes;
  });
}
