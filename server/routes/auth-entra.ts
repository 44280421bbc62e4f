import type { Response } from "express";
import { entraCallbackQuery, entraStartQuery } from "../../shared/schemas/auth";
import { signInWithEntra } from "../commands/auth/entra-sign-in";
import {
  ENTRA_FLOW_MINUTES,
  ENTRA_STATE_COOKIE,
  finishEntraSignIn,
  startEntraSignIn,
} from "../auth/entra/portal";
import { entraOf } from "../auth/entra/runtime";
import { cookieSecurity, setSessionCookies } from "../auth/cookies";
import { SESSION_COOKIE } from "../auth/sessions";
import { cookiesOf } from "../http/authenticate";
import { ApiError } from "../http/errors";
import { defineRoute, type RouteSpec } from "../http/route-table";
import type { Services } from "../context";

const STATE_COOKIE_PATH = "/api/auth/entra";

function clearStateCookie(res: Response, services: Services): void {
  res.clearCookie(ENTRA_STATE_COOKIE, {
    path: STATE_COOKIE_PATH,
    httpOnly: true,
    secure: cookieSecurity(services),
    sameSite: "lax",
  });
}

/** Portal sign-in with Entra ID: authorization code + PKCE through msal-node, ending in a session cookie. */
export const entraAuthRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/auth/entra/start",
    summary: "Start signing in with Microsoft (redirects to Entra ID; authorization code flow with PKCE)",
    tag: "auth",
    access: { kind: "public" },
    query: entraStartQuery,
    produces: "text/html",
    handler: async ({ query, services, res }) => {
      const entra = entraOf(services);
      if (!entra?.client) throw new ApiError("entra_not_configured");
      const { url, state } = await startEntraSignIn(services, entra, query.returnTo ?? "/portal");
      res.cookie(ENTRA_STATE_COOKIE, state, {
        httpOnly: true,
        secure: cookieSecurity(services),
        sameSite: "lax",
        path: STATE_COOKIE_PATH,
        maxAge: ENTRA_FLOW_MINUTES * 60_000,
      });
      res.redirect(302, url);
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/auth/entra/callback",
    summary:
      "Where Entra ID returns: checks state (bound to this browser) and nonce, redeems the code, opens a session, redirects to the portal",
    tag: "auth",
    access: { kind: "public" },
    query: entraCallbackQuery,
    produces: "text/html",
    handler: async ({ query, services, ip, req, res }) => {
      const entra = entraOf(services);
      if (!entra?.client) throw new ApiError("entra_not_configured");
      const cookieState = cookiesOf(req)[ENTRA_STATE_COOKIE];
      clearStateCookie(res, services);
      try {
        if (query.error || !query.code || !query.state) throw new ApiError("entra_sign_in_failed");
        const { identity, returnTo } = await finishEntraSignIn(services, entra, {
          code: query.code,
          state: query.state,
          cookieState,
        });
        const { session } = await signInWithEntra(services, entra.settings, identity, {
          ip,
          userAgent: req.get("user-agent") ?? null,
          previousToken: cookiesOf(req)[SESSION_COOKIE],
        });
        setSessionCookies(res, services, session.token, session.csrfToken, session.expiresAt);
        res.redirect(302, returnTo);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        // A browser is navigating here: send it back to the portal, which explains the error id.
        res.redirect(302, `/portal?signInError=${encodeURIComponent(error.id)}`);
      }
    },
  }),
];
