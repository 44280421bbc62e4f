import type { AccessToken } from "./strategies";

/** The part of Office's SSO API (`Office.auth` / `OfficeRuntime.auth`) the add-in uses. */
export interface OfficeSsoApi {
  getAccessToken(options?: Office.AuthOptions): Promise<string>;
}

/** How long a token whose `exp` cannot be read is used before asking Office again. */
const UNKNOWN_EXPIRY_MS = 5 * 60_000;

/**
 * Office's own single sign-on, where there is one: `OfficeRuntime.auth`, else `Office.auth`. Microsoft recommends the
 * first for the JavaScript-only runtime in which classic Outlook on Windows runs the Report button and the function
 * commands (no nested app auth there): every client with that runtime has it, while `Office.auth.getAccessToken`
 * works there only from Version 2111 on.
 */
export function officeSsoApi(): OfficeSsoApi | null {
  const runtime = (globalThis as { OfficeRuntime?: { auth?: Partial<OfficeSsoApi> } }).OfficeRuntime;
  if (typeof runtime?.auth?.getAccessToken === "function") return runtime.auth as OfficeSsoApi;
  const office = typeof Office !== "undefined" ? (Office as { auth?: Partial<OfficeSsoApi> }) : undefined;
  if (typeof office?.auth?.getAccessToken === "function") return office.auth as OfficeSsoApi;
  return null;
}

/** When a JWT stops being valid (epoch ms), read from its `exp` claim; null when it cannot be read. */
export function jwtExpiry(token: string): number | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    const exp: unknown = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * An access token for our API from Office's SSO (the manifest's WebApplicationInfo names the API): Office signs
 * the person in or asks for consent when it must. The token's client is Office itself, which the API accepts as
 * a documented Office client (server/auth/entra/settings.ts). Only our API's token is asked for, never Graph.
 */
export async function tokenViaOfficeSso(
  api: OfficeSsoApi,
  now: () => number = Date.now,
): Promise<AccessToken> {
  const token = await api.getAccessToken({ allowSignInPrompt: true, allowConsentPrompt: true });
  return { token, expiresAt: jwtExpiry(token) ?? now() + UNKNOWN_EXPIRY_MS };
}

/**
 * The fallback after nested app auth: Office's SSO where the host has it, else (or when it fails: not signed in to
 * Office, consent refused, the Office clients not pre-authorized) `otherwise`, the sign-in dialog.
 */
export async function tokenViaOfficeSsoOr(
  api: OfficeSsoApi | null,
  otherwise: () => Promise<AccessToken>,
): Promise<AccessToken> {
  if (!api) return otherwise();
  try {
    return await tokenViaOfficeSso(api);
  } catch {
    return otherwise();
  }
}
