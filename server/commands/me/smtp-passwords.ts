import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import type { Kysely, Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { hashSmtpPassword, MAX_ACTIVE_SMTP_PASSWORDS, newSmtpPassword } from "../../auth/smtp-passwords";
import { maySubmitMail } from "../../policies/smtp-passwords";
import { signedInRecently } from "../../policies/step-up";
import { queueSmtpPasswordNotice } from "../../mail/digest/notifications";
import { verifiedDomains } from "../../db/verified-domains";

/** An SMTP password row as the presenter needs it. */
export interface SmtpPasswordRow {
  id: string;
  label: string;
  created_at: Date;
  last_used_at: Date | null;
}

/** The caller's SMTP passwords in force, newest first (never their secrets: only hashes are kept). */
export async function listSmtpPasswords(db: Kysely<Database>, actor: Actor): Promise<SmtpPasswordRow[]> {
  return db
    .selectFrom("smtp_passwords")
    .select(["id", "label", "created_at", "last_used_at"])
    .where("user_id", "=", actor.userId)
    .where("revoked_at", "is", null)
    .orderBy("created_at", "desc")
    .orderBy("id", "desc")
    .execute();
}

/**
 * Creates an SMTP password for the caller's own address and returns it with its secret, which is not
 * kept (only its hash): shown this once. Refused without a recent sign-in (signedInRecently: a stolen
 * session cookie must not become a lasting credential), for an address outside the tenant's domains, and
 * past MAX_ACTIVE_SMTP_PASSWORDS. Audited with the label, never the secret, and the person is told by mail.
 */
export async function createSmtpPassword(
  services: Services,
  actor: Actor,
  ip: string | null,
  label: string,
): Promise<{ row: SmtpPasswordRow; password: string }> {
  const created = await runCommand(services, actor, ip, async ({ trx, now }) => {
    if (!signedInRecently(actor, now, services.config.MAILWARD_RECENT_SIGN_IN_MINUTES))
      throw new ApiError("recent_sign_in_required");
    const domains = await verifiedDomains(trx)
      .select("domain")
      .where("tenant_id", "=", actor.tenantId)
      .execute();
    const tenantDomains = domains.map((d) => d.domain);
    if (!maySubmitMail(actor.email, tenantDomains)) throw new ApiError("smtp_not_available");
    // Serialises concurrent creations by one person, so the limit holds.
    await trx.selectFrom("users").select("id").where("id", "=", actor.userId).forUpdate().execute();
    const active = await trx
      .selectFrom("smtp_passwords")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("user_id", "=", actor.userId)
      .where("revoked_at", "is", null)
      .executeTakeFirstOrThrow();
    if (Number(active.n) >= MAX_ACTIVE_SMTP_PASSWORDS) throw new ApiError("too_many_smtp_passwords");
    const password = newSmtpPassword();
    const row = await trx
      .insertInto("smtp_passwords")
      .values({
        tenant_id: actor.tenantId,
        user_id: actor.userId,
        label,
        secret_hash: hashSmtpPassword(password),
        created_at: now,
      })
      .returning(["id", "label", "created_at", "last_used_at"])
      .executeTakeFirstOrThrow();
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: "me.smtp_password_created",
      targetType: "smtp_password",
      targetId: row.id,
      details: { label },
      ip,
      at: now,
    });
    await queueSmtpPasswordNotice(trx, { tenantId: actor.tenantId, to: actor.email }, label, now);
    return { row, password };
  });
  services.signals.deliveriesQueued();
  return created;
}

/** Revokes one of the caller's SMTP passwords (404 for anyone else's, or one already revoked). Audited. */
export async function revokeSmtpPassword(
  services: Services,
  actor: Actor,
  ip: string | null,
  id: string,
): Promise<void> {
  await runCommand(services, actor, ip, async ({ trx, now }) => {
    const revoked = await trx
      .updateTable("smtp_passwords")
      .set({ revoked_at: now })
      .where("id", "=", id)
      .where("user_id", "=", actor.userId)
      .where("revoked_at", "is", null)
      .returning(["id", "label"])
      .executeTakeFirst();
    if (!revoked) throw new ApiError("not_found");
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: "me.smtp_password_revoked",
      targetType: "smtp_password",
      targetId: revoked.id,
      details: { label: revoked.label },
      ip,
      at: now,
    });
  });
}

/**
 * Revokes every SMTP password of a person, inside the caller's transaction, and says how many. A new
 * account password (reset) must end what someone who knew the old one may have created.
 */
export async function revokeAllSmtpPasswords(
  trx: Transaction<Database>,
  userId: string,
  now: Date,
): Promise<number> {
  const revoked = await trx
    .updateTable("smtp_passwords")
    .set({ revoked_at: now })
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(revoked.numUpdatedRows);
}
