import { z } from "zod";
import {
  loginBody,
  loginResult,
  passwordResetConfirmBody,
  passwordResetRequestBody,
} from "../../shared/schemas/auth";
import { signIn } from "../commands/auth/sign-in";
import { signOut } from "../commands/auth/sign-out";
import { confirmPasswordReset, requestPasswordReset } from "../commands/auth/password-reset";
import { SESSION_COOKIE } from "../auth/sessions";
import { clearSessionCookies, setSessionCookies } from "../auth/cookies";
import { consumeRateLimit } from "../auth/rate-limit";
import { answerEvenly, refusedSignIn } from "../auth/even-answer";
import { cookiesOf } from "../http/authenticate";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { presentMe } from "../presenters/me";
import { meAnswer } from "../../shared/schemas/me";
import { entraAuthRoutes } from "./auth-entra";
import { mfaRoutes } from "./auth-mfa";

export { setSessionCookies } from "../auth/cookies";

/** Local sign-in, sign-out, who-am-I and password reset. */
const localAuthRoutes: RouteSpec[] = [
  defineRoute({
    method: "post",
    path: "/api/auth/login",
    summary:
      "Sign in with a local account (password, then TOTP or a recovery code when enrolled); rate-limited per address",
    tag: "auth",
    access: { kind: "public" },
    csrfExempt: true,
    body: loginBody,
    response: loginResult,
    handler: async ({ body, services, ip, req, res }) => {
      await consumeRateLimit(services, "login", req, res);
      // A refusal takes as long for an unknown address as for a real account (server/auth/even-answer.ts).
      const result = await answerEvenly(
        () =>
          signIn(services, body, {
            ip,
            userAgent: req.get("user-agent") ?? null,
            previousToken: cookiesOf(req)[SESSION_COOKIE],
          }),
        refusedSignIn,
      );
      setSessionCookies(
        res,
        services,
        result.session.token,
        result.session.csrfToken,
        result.session.expiresAt,
      );
      return {
        json: {
          user: result.user,
          csrfToken: result.session.csrfToken,
          mfaEnrolmentRequired: result.mfaEnrolmentRequired,
        },
      };
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/auth/logout",
    summary: "End the current session",
    tag: "auth",
    access: { kind: "signed_in" },
    allowRestricted: true,
    response: z.object({ ok: z.literal(true) }),
    handler: async ({ actor, services, ip, req, res }) => {
      await signOut(services, actor, ip, cookiesOf(req)[SESSION_COOKIE]);
      clearSessionCookies(res);
      return { json: { ok: true } };
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/me",
    summary: "The signed-in user, their roles and permissions (and whether they must enrol TOTP first)",
    tag: "auth",
    access: { kind: "signed_in" },
    allowRestricted: true,
    response: meAnswer,
    handler: async ({ actor }) => ({
      json: { ...presentMe(actor), mfaEnrolmentRequired: actor.restriction === "mfa_enrolment" },
    }),
  }),
  defineRoute({
    method: "post",
    path: "/api/auth/password-reset",
    summary:
      "Email a single-use, expiring password-reset link (202 whether or not the address exists, after the same time)",
    tag: "auth",
    access: { kind: "public" },
    body: passwordResetRequestBody,
    response: z.object({ accepted: z.literal(true) }),
    handler: async ({ body, services, ip, req, res }) => {
      await consumeRateLimit(services, "password_reset", req, res);
      // As long whether or not a link is made and mailed: the time must not tell who has an account.
      await answerEvenly(
        () => requestPasswordReset(services, body.email, ip),
        () => true,
      );
      return { status: 202, body: { accepted: true } };
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/auth/password-reset/confirm",
    summary: "Set a new password with a reset or invitation link; ends every session of the account",
    tag: "auth",
    access: { kind: "public" },
    body: passwordResetConfirmBody,
    response: z.object({ ok: z.literal(true) }),
    handler: async ({ body, services, ip, req, res }) => {
      await consumeRateLimit(services, "password_reset", req, res);
      await confirmPasswordReset(services, body.token, body.password, ip);
      return { json: { ok: true } };
    },
  }),
];

/** Every sign-in route: local, Entra (portal) and MFA enrolment. */
export const authRoutes: RouteSpec[] = [...localAuthRoutes, ...entraAuthRoutes, ...mfaRoutes];
