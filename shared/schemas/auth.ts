import { z } from "zod";

/** Body of POST /api/auth/login. */
export const loginBody = z.object({
  email: z.email().max(320),
  password: z.string().min(1).max(1024),
  totp: z
    .string()
    .regex(/^[0-9]{6}$|^[A-Za-z0-9-]{8,20}$/, "a 6-digit code or a recovery code")
    .optional(),
});
/** Input of a local sign-in. */
export type LoginBody = z.infer<typeof loginBody>;

/** Answer of a successful sign-in. */
export const loginResponse = z.object({
  user: z.object({ id: z.string(), email: z.string(), displayName: z.string() }),
  csrfToken: z.string(),
});

/** Answer of a successful sign-in, with the restriction flag (an admin who must still enrol TOTP). */
export const loginResult = loginResponse.extend({ mfaEnrolmentRequired: z.boolean() });

/** GET /api/auth/entra/start query: where to land in the portal afterwards (a relative path). */
export const entraStartQuery = z.object({ returnTo: z.string().max(500).optional() });

/** GET /api/auth/entra/callback query, as Entra sends it back. */
export const entraCallbackQuery = z.object({
  code: z.string().max(4000).optional(),
  state: z.string().max(200).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(2000).optional(),
});

/** Body of POST /api/auth/password-reset. The answer is 202 whether or not the address exists. */
export const passwordResetRequestBody = z.object({ email: z.email().max(320) });

/** Body of POST /api/auth/password-reset/confirm (also accepts invitations). */
export const passwordResetConfirmBody = z.object({
  token: z.string().min(20).max(200),
  password: z.string().min(1).max(1024),
});

/**
 * Answer of POST /api/me/totp/confirm: recovery codes are shown once; a cookie session gets a new CSRF token;
 * `smtpPasswordsRevoked` counts the SMTP passwords the enrolment revoked (made with the password alone: the person
 * makes new ones for their devices).
 */
export const totpConfirmAnswer = z.object({
  totpEnabled: z.literal(true),
  recoveryCodes: z.array(z.string()),
  csrfToken: z.string().nullable(),
  smtpPasswordsRevoked: z.number().int().nonnegative(),
});

/** Body of POST /api/me/totp/recovery-codes: a current code, to replace the recovery codes. */
export const recoveryCodesBody = z.object({ code: z.string().regex(/^[0-9]{6}$/, "a 6-digit code") });
/** Body that replaces the recovery codes. */
export type RecoveryCodesBody = z.infer<typeof recoveryCodesBody>;

/** Answer of POST /api/me/totp/recovery-codes: the new codes, shown once (the old ones stop working). */
export const recoveryCodesAnswer = z.object({ recoveryCodes: z.array(z.string()) });
