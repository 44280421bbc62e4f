import { z } from "zod";

/** Body of POST /api/me/smtp-passwords: what the password is for, so the person knows which one to revoke. */
export const smtpPasswordBody = z.object({
  label: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .regex(/^[^<>\p{Cc}]+$/u, "no angle brackets or control characters"),
});
/** Body that creates an SMTP password. */
export type SmtpPasswordBody = z.infer<typeof smtpPasswordBody>;

/** One SMTP password as listed: never its secret, which is shown once at creation. */
export const smtpPassword = z.object({
  id: z.uuid(),
  label: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
  lastUsedAt: z.iso.datetime({ offset: true }).nullable(),
});
/** An SMTP password in force. */
export type SmtpPassword = z.infer<typeof smtpPassword>;

/** GET /api/me/smtp-passwords: the caller's SMTP passwords in force, newest first. */
export const smtpPasswordList = z.object({ items: z.array(smtpPassword) });
/** The caller's SMTP passwords. */
export type SmtpPasswordList = z.infer<typeof smtpPasswordList>;

/** Answer of POST /api/me/smtp-passwords: the new password with its secret, shown this once. */
export const smtpPasswordCreated = smtpPassword.extend({
  password: z.string().regex(/^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/),
  /** The SMTP user name to configure with it (the caller's address). */
  username: z.email(),
});
/** A new SMTP password with its secret. */
export type SmtpPasswordCreated = z.infer<typeof smtpPasswordCreated>;
