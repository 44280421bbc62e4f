import type { Config } from "../../config";

/** Entra ID settings resolved from MAILWARD_ENTRA_* (see README "Sign-in with Microsoft"). */
export interface EntraSettings {
  /** Our app registration: the API's audience and the confidential client for OBO and portal sign-in. */
  clientId: string;
  clientSecret: string | null;
  /** Cloud authority host, no trailing slash (issuer = `${authority}/${tid}/v2.0`). */
  authority: string;
  /** Directory ids (tid) whose tokens are accepted, lower case. */
  allowedTenants: ReadonlySet<string>;
  /** Accepted `aud` values: the client id and `api://{clientId}`, plus MAILWARD_ENTRA_API_AUDIENCE. */
  audiences: string[];
  /**
   * Applications (`azp`, v1 `appid`) whose tokens for our API are accepted: our own app registration (the add-in
   * and the portal use it), Office's own clients unless MAILWARD_ENTRA_OFFICE_SSO is off (their SSO token is the
   * only one the Report button can get in classic Outlook), plus MAILWARD_ENTRA_ALLOWED_CLIENTS. Another app a
   * person consented to cannot call it.
   */
  allowedClients: ReadonlySet<string>;
  /** Delegated scope every API token must carry (`access_as_user`). */
  requiredScope: string;
  /** JWKS URL override; `{tenantid}` is replaced by the token's tid. Unset: read from the tenant's OpenID metadata. */
  jwksUrlTemplate: string | null;
  /** The authority path segment used for portal sign-in (a tenant id, or `organizations`). */
  signInTenant: string;
  /** The Entra directory the default tenant is mapped to at start (MAILWARD_ENTRA_TENANT_ID). */
  defaultTenantId: string | null;
  /** Whether unknown people of a mapped tenant are created as agents when the tenant's settings don't say. */
  jitDefault: boolean;
}

/**
 * The client ids Microsoft documents for Office's single sign-on (`Office.auth.getAccessToken`): the tokens Office
 * gets for an add-in's API name Office as their client. An admin pre-authorizes them on the API's app registration
 * ("Expose an API"); the first is the umbrella id that covers the others.
 */
export const OFFICE_SSO_CLIENT_IDS = [
  "ea5a67f6-b6f3-4338-b240-c655ddc3cc8e", // all Microsoft Office application endpoints
  "d3590ed6-52b3-4102-aeff-aad2292ab01c", // Microsoft Office (desktop, including classic Outlook on Windows)
  "93d53678-613d-4013-afc1-62e9e444a0a5", // Office on the web
  "57fb890c-0dab-4253-a5e0-7188c88b2bb4", // Office on the web
  "08e18876-6177-487e-b8b5-cf950c1e598c", // Office on the web
  "bc59ab01-8403-45c6-8796-ac3ef710b3e3", // Outlook on the web
] as const;

const list = (value: string): string[] =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

/** The Entra settings, or null when Entra is not configured (no MAILWARD_ENTRA_CLIENT_ID). */
export function entraSettingsFrom(config: Config): EntraSettings | null {
  const clientId = config.MAILWARD_ENTRA_CLIENT_ID;
  if (!clientId) return null;
  const defaultTenantId = config.MAILWARD_ENTRA_TENANT_ID?.toLowerCase() ?? null;
  const allowed = new Set(list(config.MAILWARD_ENTRA_ALLOWED_TENANTS).map((t) => t.toLowerCase()));
  if (defaultTenantId) allowed.add(defaultTenantId);
  const audiences = [
    ...new Set([clientId, `api://${clientId}`, ...list(config.MAILWARD_ENTRA_API_AUDIENCE)]),
  ];
  const onlyTenant = allowed.size === 1 ? [...allowed][0] : undefined;
  return {
    clientId,
    clientSecret: config.MAILWARD_ENTRA_CLIENT_SECRET ?? null,
    authority: config.MAILWARD_ENTRA_AUTHORITY.replace(/\/+$/, ""),
    allowedTenants: allowed,
    audiences,
    allowedClients: new Set(
      [
        clientId,
        ...(config.MAILWARD_ENTRA_OFFICE_SSO ? OFFICE_SSO_CLIENT_IDS : []),
        ...list(config.MAILWARD_ENTRA_ALLOWED_CLIENTS),
      ].map((id) => id.toLowerCase()),
    ),
    requiredScope: config.MAILWARD_ENTRA_REQUIRED_SCOPE,
    jwksUrlTemplate: config.MAILWARD_ENTRA_JWKS_URL ?? null,
    signInTenant: config.MAILWARD_ENTRA_SIGN_IN_TENANT ?? onlyTenant ?? "organizations",
    defaultTenantId,
    jitDefault: config.MAILWARD_ENTRA_JIT_USERS,
  };
}

/** The v2 issuer Entra uses for a tenant's tokens. */
export function issuerFor(settings: EntraSettings, tenantId: string): string {
  return `${settings.authority}/${tenantId}/v2.0`;
}
