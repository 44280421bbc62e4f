import type { Transaction } from "kysely";
import type { Services } from "../../context";
import type { Database } from "../../db/schema";
import { appendAudit } from "../../audit/log";
import { hashPassword } from "../../auth/passwords";
import { assertPasswordAcceptable, passwordPolicyFrom } from "../../auth/password-policy";
import { destroyUserSessions, randomToken, sessionIdFor } from "../../auth/sessions";
import { queueAccountMail } from "../../auth/account-mail";
import { ApiError } from "../../http/errors";
import { revokeAllSmtpPasswords } from "../me/smtp-passwords";

/** How long an invitation link stays valid. */
export const INVITE_TTL_HOURS = 72;

/** The portal page that takes the token (in the fragment, so it never reaches logs or Referer headers). */
export function passwordLinkFor(services: Services, token: string, purpose: "reset" | "invite"): string {
  const page = purpose === "invite" ? "/portal/accept-invite" : "/portal/reset-password";
  return `${new URL(page, services.config.MAILWARD_PUBLIC_URL).toString()}#token=${token}`;
}

/**
 * Makes every unused reset or invitation link of a person unusable: a new link supersedes them, and disabling the
 * account must not leave one that works again if it is enabled before the link expires. Answers how many.
 */
export async function retirePasswordLinks(
  trx: Transaction<Database>,
  userId: string,
  now: Date,
): Promise<number> {
  const retired = await trx
    .updateTable("password_resets")
    .set({ used_at: now })
    .where("user_id", "=", userId)
    .where("used_at", "is", null)
    .executeTakeFirst();
  return Number(retired.numUpdatedRows);
}

/**
 * Creates a single-use link for a user (older unused links of theirs stop
 * working) and queues the mail with it, inside the caller's transaction.
 */
export async function issuePasswordLink(
  trx: Transaction<Database>,
  services: Services,
  user: { id: string; tenantId: string; email: string },
  purpose: "reset" | "invite",
  now: Date,
): Promise<void> {
  const token = randomToken(32);
  const ttlMs =
    purpose === "invite"
      ? INVITE_TTL_HOURS * 3600_000
      : services.config.MAILWARD_PASSWORD_RESET_TTL_MINUTES * 60_000;
  await retirePasswordLinks(trx, user.id, now);
  await trx
    .insertInto("password_resets")
    .values({
      id: sessionIdFor(token),
      tenant_id: user.tenantId,
      user_id: user.id,
      purpose,
      expires_at: new Date(now.getTime() + ttlMs),
    })
    .execute();
  const link = passwordLinkFor(services, token, purpose);
  const text =
    purpose === "invite"
      ? `You have been invited to Mailward.\n\nChoose your password here (the link works once, for ${INVITE_TTL_HOURS} hours):\n${link}\n`
      : `Someone asked to reset the Mailward password of ${user.email}.\n\nIf it was you, choose a new password here (the link works once, for ${services.config.MAILWARD_PASSWORD_RESET_TTL_MINUTES} minutes):\n${link}\n\nIf it was not you, ignore this message: your password stays as it is.\n`;
  await queueAccountMail(trx, {
    tenantId: user.tenantId,
    to: user.email,
    subject: purpose === "invite" ? "Your Mailward invitation" : "Reset your Mailward password",
    text,
    purpose: purpose === "invite" ? "invite" : "password_reset",
    now,
    credentials: [link],
  });
}

/**
 * POST /api/auth/password-reset: always the same answer whether or not the
 * address exists. A local, enabled account gets an emailed single-use,
 * expiring link (through the delivery queue); the request is audited.
 */
export async function requestPasswordReset(
  services: Services,
  email: string,
  ip: string | null,
): Promise<void> {
  const users = await services.db
    .selectFrom("users")
    .select(["id", "tenant_id", "email", "password_hash", "entra_oid", "disabled_at"])
    .where((eb) => eb(eb.fn("lower", ["email"]), "=", email.trim().toLowerCase()))
    .execute();
  // Entra-only accounts reset their password at Microsoft; disabled accounts get nothing.
  const eligible = users.filter((u) => !u.disabled_at && (u.password_hash || !u.entra_oid));
  if (eligible.length === 0) return;
  await services.db.transaction().execute(async (trx) => {
    const now = services.now();
    for (const user of eligible) {
      await issuePasswordLink(
        trx,
        services,
        { id: user.id, tenantId: user.tenant_id, email: user.email },
        "reset",
        now,
      );
      await appendAudit(trx, {
        tenantId: user.tenant_id,
        actorId: null,
        actorLabel: "anonymous",
        action: "auth.password_reset_requested",
        targetType: "user",
        targetId: user.id,
        ip,
        at: now,
      });
    }
  });
  services.signals.deliveriesQueued();
}

/**
 * POST /api/auth/password-reset/confirm: a valid, unused, unexpired link sets
 * the password (policy-checked), ends every session of the account and clears
 * a lockout. TOTP stays as it was: a reset never bypasses the second factor. Audited.
 */
export async function confirmPasswordReset(
  services: Services,
  token: string,
  password: string,
  ip: string | null,
): Promise<void> {
  const id = sessionIdFor(token);
  const link = await services.db
    .selectFrom("password_resets")
    .innerJoin("users", "users.id", "password_resets.user_id")
    .select([
      "password_resets.user_id",
      "password_resets.tenant_id",
      "password_resets.purpose",
      "password_resets.expires_at",
      "password_resets.used_at",
      "users.email",
      "users.disabled_at",
    ])
    .where("password_resets.id", "=", id)
    .executeTakeFirst();
  const now = services.now();
  if (!link || link.used_at || link.disabled_at || new Date(link.expires_at) <= now)
    throw new ApiError("reset_link_invalid");
  assertPasswordAcceptable(password, passwordPolicyFrom(services.config), { email: link.email });
  const passwordHash = await hashPassword(password);
  await services.db.transaction().execute(async (trx) => {
    const claimed = await trx
      .updateTable("password_resets")
      .set({ used_at: now })
      .where("id", "=", id)
      .where("used_at", "is", null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) throw new ApiError("reset_link_invalid");
    await trx
      .updateTable("users")
      .set({ password_hash: passwordHash, failed_logins: 0, locked_until: null, updated_at: now })
      .where("id", "=", link.user_id)
      .execute();
    const ended = await destroyUserSessions(trx, link.user_id);
    const smtpPasswordsRevoked = await revokeAllSmtpPasswords(trx, link.user_id, now);
    await appendAudit(trx, {
      tenantId: link.tenant_id,
      actorId: link.user_id,
      actorLabel: link.email,
      action: link.purpose === "invite" ? "auth.invite_accepted" : "auth.password_reset",
      targetType: "user",
      targetId: link.user_id,
      details: { sessionsEnded: ended, smtpPasswordsRevoked },
      ip,
      at: now,
    });
  });
}
