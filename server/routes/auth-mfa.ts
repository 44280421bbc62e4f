import { totpConfirmBody, totpEnrollment } from "../../shared/schemas/me";
import { recoveryCodesAnswer, recoveryCodesBody, totpConfirmAnswer } from "../../shared/schemas/auth";
import {
  confirmTotpEnrolment,
  regenerateRecoveryCodes,
  startTotpEnrolment,
} from "../commands/auth/totp-enrolment";
import { setSessionCookies } from "../auth/cookies";
import { defineRoute, type RouteSpec } from "../http/route-table";

/** TOTP enrolment and recovery codes for local accounts (reachable by a restricted admin session: it must enrol). */
export const mfaRoutes: RouteSpec[] = [
  defineRoute({
    method: "post",
    path: "/api/me/totp/enroll",
    summary: "Start TOTP enrolment: a new secret, its otpauth:// URI and a QR code (PNG data URL)",
    tag: "auth",
    access: { kind: "signed_in" },
    allowRestricted: true,
    response: totpEnrollment,
    handler: async ({ actor, services, ip }) => ({ json: await startTotpEnrolment(services, actor, ip) }),
  }),
  defineRoute({
    method: "post",
    path: "/api/me/totp/confirm",
    summary:
      "Activate TOTP with the first code; returns one-time recovery codes, ends the person's other sessions, revokes their SMTP passwords (made with the password alone; smtpPasswordsRevoked says how many) and rotates this session (wrong codes count towards the sign-in lockout: 423 account_locked)",
    tag: "auth",
    access: { kind: "signed_in" },
    allowRestricted: true,
    body: totpConfirmBody,
    response: totpConfirmAnswer,
    handler: async ({ actor, services, ip, body, req, res }) => {
      const result = await confirmTotpEnrolment(
        services,
        actor,
        ip,
        body.code,
        req.get("user-agent") ?? null,
      );
      if (result.session)
        setSessionCookies(
          res,
          services,
          result.session.token,
          result.session.csrfToken,
          result.session.expiresAt,
        );
      return {
        json: {
          totpEnabled: true,
          recoveryCodes: result.recoveryCodes,
          csrfToken: result.session?.csrfToken ?? null,
          smtpPasswordsRevoked: result.smtpPasswordsRevoked,
        },
      };
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/me/totp/recovery-codes",
    summary:
      "Replace the recovery codes (needs a current TOTP code); the old ones stop working. A portal session needs a sign-in in the last MAILWARD_RECENT_SIGN_IN_MINUTES (403 recent_sign_in_required); wrong codes count towards the sign-in lockout (423 account_locked)",
    tag: "auth",
    access: { kind: "signed_in" },
    body: recoveryCodesBody,
    response: recoveryCodesAnswer,
    handler: async ({ actor, services, ip, body }) => ({
      json: { recoveryCodes: await regenerateRecoveryCodes(services, actor, ip, body.code) },
    }),
  }),
];
