import type { SmtpPassword, SmtpPasswordCreated } from "../../shared/schemas/smtp-passwords";
import type { SmtpPasswordRow } from "../commands/me/smtp-passwords";

/** The JSON of one SMTP password as listed (no secret). */
export function presentSmtpPassword(row: SmtpPasswordRow): SmtpPassword {
  return {
    id: row.id,
    label: row.label,
    createdAt: new Date(row.created_at).toISOString(),
    lastUsedAt: row.last_used_at ? new Date(row.last_used_at).toISOString() : null,
  };
}

/** The JSON of a new SMTP password: the listed fields, the secret shown this once, and the user name to use. */
export function presentCreatedSmtpPassword(
  row: SmtpPasswordRow,
  password: string,
  username: string,
): SmtpPasswordCreated {
  return { ...presentSmtpPassword(row), password, username: username.toLowerCase() };
}
