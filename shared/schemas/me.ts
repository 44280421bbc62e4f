import { z } from "zod";
import { PERMISSIONS, ROLES } from "../permissions";

/** GET /api/me: who is signed in and what they may do (the add-in hides what they may not). */
export const me = z.object({
  id: z.uuid(),
  email: z.email(),
  displayName: z.string(),
  roles: z.array(z.enum(ROLES)),
  permissions: z.array(z.enum(PERMISSIONS)),
  /**
   * How far reading others' held mail and archive reaches (`held.read_any`, `archive.read_any`, or a security admin's
   * review): the whole organisation, only the teams and partner groups the person's role covers (a partner's
   * investigator), or nobody else's (null). The portal names the "Everyone's" list by it.
   */
  othersReach: z.enum(["organisation", "groups"]).nullable(),
});
/** The signed-in person. */
export type Me = z.infer<typeof me>;

/**
 * GET /api/me's answer: the person, and whether their session is restricted to enrolling an authenticator app (an
 * admin role with `MAILWARD_ADMIN_TOTP=required` and none yet), so the UI shows the enrolment first, not views that
 * would all answer `mfa_enrolment_required`.
 */
export const meAnswer = me.extend({ mfaEnrolmentRequired: z.boolean() });
/** The signed-in person as GET /api/me answers. */
export type MeAnswer = z.infer<typeof meAnswer>;

/** GET /api/me/settings: what the Settings view shows. TOTP only applies to local accounts (Entra does its own MFA). */
export const meSettings = z.object({
  authMethod: z.enum(["local", "entra"]),
  securityPhrase: z.string().nullable(),
  totpEnabled: z.boolean(),
});
/** The signed-in person's own settings. */
export type MeSettings = z.infer<typeof meSettings>;

/** Body of PUT /api/me/security-phrase: the phrase shown in every digest, so a fake quarantine notice is recognisable. */
export const securityPhraseBody = z.object({
  phrase: z
    .string()
    .trim()
    .min(3)
    .max(64)
    .regex(/^[^<>\r\n]+$/, "no angle brackets or line breaks"),
});
/** Body that sets the security phrase. */
export type SecurityPhraseBody = z.infer<typeof securityPhraseBody>;

/** Answer of POST /api/me/totp/enroll: a new, not yet active secret. `qrDataUrl` is a `data:image/png` QR code. */
export const totpEnrollment = z.object({
  secret: z.string().regex(/^[A-Z2-7]+=*$/, "base32"),
  otpauthUri: z.string().startsWith("otpauth://totp/"),
  qrDataUrl: z.string().startsWith("data:image/").optional(),
});
/** A TOTP enrolment in progress. */
export type TotpEnrollment = z.infer<typeof totpEnrollment>;

/** Body of POST /api/me/totp/confirm: the first code from the authenticator app activates the secret. */
export const totpConfirmBody = z.object({
  code: z.string().regex(/^[0-9]{6}$/, "a 6-digit code"),
});
/** Body that confirms a TOTP enrolment. */
export type TotpConfirmBody = z.infer<typeof totpConfirmBody>;
