/**
 * Build-time settings for Microsoft sign-in, injected by webpack's DefinePlugin from the environment
 * (MAILWARD_ENTRA_CLIENT_ID, MAILWARD_ENTRA_AUTHORITY, MAILWARD_API_SCOPE, MAILWARD_PUBLIC_URL).
 * Without a client id the add-in falls back to the cookie session, which is what dev and tests use.
 */
export interface AuthConfig {
  /** Entra app (client) id of the Mailward API registration, or null when Entra sign-in is not set up. */
  clientId: string | null;
  /** Token authority, e.g. https://login.microsoftonline.com/organizations (see signInAuthority). */
  authority: string;
  /** The scope our API accepts: api://<host>/<clientId>/access_as_user. */
  apiScope: string | null;
}

/** Derives the API scope the way the manifest's WebApplicationInfo/Resource names it. */
export function apiScopeFor(clientId: string, publicUrl: string): string {
  return `api://${new URL(publicUrl).host}/${clientId}/access_as_user`;
}

/**
 * The sign-in authority from MAILWARD_ENTRA_AUTHORITY, which the server reads as the cloud's host alone
 * (https://login.microsoftonline.com): a bare host gets `/organizations`, a value with a tenant path is kept.
 */
export function signInAuthority(configured: string): string {
  const url = new URL(configured || "https://login.microsoftonline.com");
  return url.pathname.replace(/\/+$/, "") === ""
    ? `${url.origin}/organizations`
    : configured.replace(/\/+$/, "");
}

/** Reads the settings baked into the bundle (empty strings count as unset). */
export function readAuthConfig(): AuthConfig {
  const clientId = process.env.MAILWARD_ENTRA_CLIENT_ID || null;
  const publicUrl = process.env.MAILWARD_PUBLIC_URL || "https://localhost:3000";
  const authority = signInAuthority(process.env.MAILWARD_ENTRA_AUTHORITY ?? "");
  const explicitScope = process.env.MAILWARD_API_SCOPE || null;
  return {
    clientId,
    authority,
    apiScope: explicitScope ?? (clientId ? apiScopeFor(clientId, publicUrl) : null),
  };
}

/** Origin of the Mailward server: the page's own origin, or the build-time public URL where there is no page. */
export function appOrigin(): string {
  if (typeof location !== "undefined" && location.origin && location.origin !== "null")
    return location.origin;
  return new URL(process.env.MAILWARD_PUBLIC_URL || "https://localhost:3000").origin;
}
