import type { Response } from "express";
import { z } from "zod";
import { loginBody, loginResponse } from "../../shared/schemas/auth";
import { signIn } from "../commands/auth/sign-in";
import { signOut } from "../commands/auth/sign-out";
import { CSRF_COOKIE, SESSION_COOKIE } from "../auth/sessions";
import { cookiesOf } from "../http/authenticate";
import { defineRoute, type RouteSpec } from "../http/route-table";
import type { Services } from "../context";
import { presentMe } from "../presenters/me";

/** Secure cookies everywhere except plain-http localhost development. */
function cookieSecurity(services: Services) {
  const url = new URL(services.config.MAILWARD_PUBLIC_URL);
  return url.protocol === "https:" || !["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
}

/** Sets the session and CSRF cookies after a sign-in. */
export function setSessionCookies(res: Response, services: Services, token: string, csrf: string, expires: Date) {
  const secure = cookieSecurity(services);
  res.cookie(SESSION_COOKIE, token, { httpOnly: true, secure, sameSite: "lax", path: "/", expires });
  res.cookie(CSRF_COOKIE, csrf, { httpOnly: false, secure, sameSite: "lax", path: "/", expires });
}

/** Sign-in, sign-out and who-am-I. */
export const authRoutes: RouteSpec[] = [
  defineRoute({
    method: "post",
    path: "/api/auth/login",
    summary: "Sign in with a local account (password, then TOTP when enrolled)",
    tag: "auth",
    access: { kind: "public" },
    csrfExempt: true,
    body: loginBody,
    response: loginResponse,
    handler: async ({ body, services, ip, req, res }) => {
      const result = await signIn(services, body, {
        ip,
        userAgent: req.get("user-agent") ?? null,
        previousToken: cookiesOf(req)[SESSION_COOKIE],
      });
      setSessionCookies(res, services, result.session.token, result.session.csrfToken, result.session.expiresAt);
      return { json: { user: result.user, csrfToken: result.session.csrfToken } };
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/auth/logout",
    summary: "End the current session",
    tag: "auth",
    access: { kind: "signed_in" },
    response: z.object({ ok: z.literal(true) }),
    handler: async ({ actor, services, ip, req, res }) => {
      await signOut(services, actor, ip, cookiesOf(req)[SESSION_COOKIE]);
      res.clearCookie(SESSION_COOKIE, { path: "/" });
      res.clearCookie(CSRF_COOKIE, { path: "/" });
      return { json: { ok: true } };
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/me",
    summary: "The signed-in user, their roles and permissions",
    tag: "auth",
    access: { kind: "signed_in" },
    response: z.object({
      id: z.string(),
      email: z.string(),
      displayName: z.string(),
      roles: z.array(z.string()),
      permissions: z.array(z.string()),
    }),
    handler: async ({ actor }) => ({ json: presentMe(actor) }),
  }),
];
