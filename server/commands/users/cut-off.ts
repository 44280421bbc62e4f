import type { Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { destroyUserSessions } from "../../auth/sessions";
import { revokeAllSmtpPasswords } from "../me/smtp-passwords";
import { retirePasswordLinks } from "../auth/password-reset";

/** What disabling an account took away at once, for its audit event. */
export interface AccessCutOff {
  sessionsEnded: number;
  smtpPasswordsRevoked: number;
  passwordLinksRetired: number;
}

/**
 * Ends every way back into an account being disabled (by an admin, or by the directory sync for a leaver): its
 * sessions, its SMTP passwords and its unused reset or invitation links, so that enabling it again later brings back
 * nothing an intruder made or a link sent before.
 */
export async function cutOffAccess(
  trx: Transaction<Database>,
  userId: string,
  now: Date,
): Promise<AccessCutOff> {
  return {
    sessionsEnded: await destroyUserSessions(trx, userId),
    smtpPasswordsRevoked: await revokeAllSmtpPasswords(trx, userId, now),
    passwordLinksRetired: await retirePasswordLinks(trx, userId, now),
  };
}
