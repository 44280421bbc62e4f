import { randomBytes } from "node:crypto";
import { findApp, userTenant, type EntraContext } from "./context";
import { clientInfoFor } from "./tokens";
import { splitScopes } from "./scopes";

/** What /authorize answers: a redirect, an auto-submitting form (form_post) or an error page. */
export type AuthorizeResult =
  | { kind: "redirect"; location: string }
  | { kind: "form_post"; action: string; fields: Record<string, string> }
  | { kind: "error"; status: number; message: string };

/**
 * GET /{tenant}/oauth2/v2.0/authorize: the configured test user "signs in" at once, and the fake
 * redirects back with a single-use code bound to the client, redirect URI, scopes, nonce and PKCE challenge.
 * A `login_hint` matching a user's preferredUsername picks that user.
 */
export function handleAuthorize(ctx: EntraContext, tenant: string, query: URLSearchParams): AuthorizeResult {
  const clientId = query.get("client_id") ?? "";
  const app = findApp(ctx, clientId);
  if (!app) {
    return {
      kind: "error",
      status: 400,
      message: `AADSTS700016: Application with identifier '${clientId}' was not found in the directory.`,
    };
  }
  const redirectUri = query.get("redirect_uri") ?? "";
  const registered = app.redirectUris ?? [];
  const redirectOk =
    registered.length > 0 ? registered.includes(redirectUri) : /^https?:\/\//.test(redirectUri);
  if (!redirectOk) {
    return {
      kind: "error",
      status: 400,
      message: `AADSTS50011: The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`,
    };
  }
  const responseMode = query.get("response_mode") ?? "query";
  const state = query.get("state") ?? undefined;
  const fail = (error: string, description: string): AuthorizeResult =>
    respond(redirectUri, responseMode, {
      error,
      error_description: description,
      ...(state ? { state } : {}),
    });

  if (query.get("response_type") !== "code") {
    return fail("unsupported_response_type", "AADSTS70005: The response_type is not supported by this fake.");
  }
  const challenge = query.get("code_challenge") ?? undefined;
  const method = query.get("code_challenge_method") ?? undefined;
  if (challenge !== undefined && method !== "S256") {
    return fail(
      "invalid_request",
      "AADSTS501491: Invalid code_challenge_method: only S256 is accepted here.",
    );
  }
  if (challenge === undefined && ctx.requirePkce) {
    return fail(
      "invalid_request",
      "AADSTS9002325: Proof Key for Code Exchange is required for this request.",
    );
  }
  const hint = query.get("login_hint")?.toLowerCase();
  const user =
    ctx.users.find((candidate) => candidate.preferredUsername.toLowerCase() === hint) ??
    ctx.users.find((candidate) => candidate.oid === ctx.signInUserOid) ??
    ctx.users[0];
  if (!user) return fail("access_denied", "AADSTS50034: The user account does not exist.");
  if (!["common", "organizations"].includes(tenant) && userTenant(ctx, user) !== tenant) {
    return fail(
      "access_denied",
      `AADSTS50020: User account '${user.preferredUsername}' does not exist in tenant '${tenant}'.`,
    );
  }
  const code = `0.${randomBytes(48).toString("base64url")}`;
  ctx.codes.set(code, {
    clientId,
    redirectUri,
    scopes: splitScopes(query.get("scope")),
    codeChallenge: challenge,
    codeChallengeMethod: method,
    nonce: query.get("nonce") ?? undefined,
    user,
    expiresAt: Date.now() + 10 * 60 * 1000,
    redeemed: false,
  });
  const params: Record<string, string> = { code };
  if (query.get("client_info") === "1") params.client_info = clientInfoFor(ctx, user);
  if (state !== undefined) params.state = state;
  params.session_state = randomBytes(16).toString("hex");
  return respond(redirectUri, responseMode, params);
}

function respond(redirectUri: string, responseMode: string, params: Record<string, string>): AuthorizeResult {
  if (responseMode === "form_post") return { kind: "form_post", action: redirectUri, fields: params };
  const target = new URL(redirectUri);
  const encoded = new URLSearchParams(params).toString();
  if (responseMode === "fragment")
    return { kind: "redirect", location: `${target.origin}${target.pathname}${target.search}#${encoded}` };
  for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
  return { kind: "redirect", location: target.toString() };
}

/** Renders the auto-submitting HTML form Entra returns for response_mode=form_post. */
export function renderFormPost(action: string, fields: Record<string, string>): string {
  const escape = (text: string): string =>
    text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escape(name)}" value="${escape(value)}" />`)
    .join("");
  return `<html><head><title>Working...</title></head><body><form method="POST" name="hiddenform" action="${escape(action)}">${inputs}<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit" /></noscript></form><script language="javascript">document.forms[0].submit();</script></body></html>`;
}
