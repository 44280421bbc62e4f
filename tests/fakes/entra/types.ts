/** A person who can sign in at the fake Entra (authorization code flow) and appear in tokens. */
export interface FakeEntraUser {
  oid: string;
  /** Defaults to the fake's main tenant. */
  tenantId?: string;
  preferredUsername: string;
  name: string;
}

/** An app registration (confidential client) known to the fake Entra. */
export interface FakeEntraApp {
  clientId: string;
  /** Client secret credential. */
  clientSecret?: string;
  /** Certificate credential: the PEM public key or X.509 certificate whose private key signs client assertions. */
  certificatePem?: string;
  /** Application permissions granted on Microsoft Graph (the `roles` claim of app-only Graph tokens). */
  graphAppRoles?: string[];
  /** Delegated Graph permissions consented (what `https://graph.microsoft.com/.default` expands to in OBO). */
  graphDelegatedScopes?: string[];
  /** Registered redirect URIs; when empty any http(s) URI is accepted. */
  redirectUris?: string[];
  displayName?: string;
}

/** Options of startEntraFake. Every field has a test-friendly default. */
export interface EntraFakeOptions {
  /** The main tenant id (GUID). Default: a fixed test GUID. */
  tenantId?: string;
  /** Further tenants this fake also serves (for cross-tenant tests). */
  otherTenantIds?: string[];
  /**
   * Scheme+host used in `iss` and in the metadata endpoints. Default `https://login.microsoftonline.com`.
   * `"local"`: the fake's own address, so that a client can follow the OpenID metadata to the keys over real HTTP.
   */
  publicBaseUrl?: string;
  /** Client id of the Mailward API app (the `aud` of tokens for our API). Default: a fixed test GUID. */
  apiClientId?: string;
  /** Application ID URI of our API. Default `api://{apiClientId}`. */
  apiAppIdUri?: string;
  /** App registrations. Default: one app = apiClientId with secret `test-secret` and Mail/User Graph roles. */
  apps?: FakeEntraApp[];
  /** Users. Default: one user, Adele Vance, in the main tenant. */
  users?: FakeEntraUser[];
  /** oid of the user /authorize signs in when no login_hint matches. Default: the first user. */
  signInUserOid?: string;
  /** Lifetime of issued access tokens. Default 3600 s. */
  tokenLifetimeSeconds?: number;
  /** Require PKCE (S256) in the authorization code flow. Default true. */
  requirePkce?: boolean;
}

/** One call to the token endpoint, recorded for assertions (e.g. that a cache avoided a second call). */
export interface TokenRequestLogEntry {
  at: number;
  tenant: string;
  grantType: string;
  clientId: string | undefined;
  scope: string | undefined;
  status: number;
  error?: string;
}

/** Claims of a v2 access token for our API; any other claim may be added, `undefined` removes one. */
export interface AccessTokenClaims {
  aud?: string;
  iss?: string;
  tid?: string;
  oid?: string;
  sub?: string;
  scp?: string;
  roles?: string[];
  azp?: string;
  preferred_username?: string;
  name?: string;
  iat?: number;
  nbf?: number;
  exp?: number;
  ver?: string;
  [claim: string]: unknown;
}

/** Options of a Graph token minted directly (without the token endpoint). */
export interface GraphTokenOptions {
  appId?: string;
  tenantId?: string;
  /** App-only permissions; default the app's graphAppRoles. */
  roles?: string[];
  /** Delegated scopes (space separated); makes a delegated token for `userOid`. */
  scp?: string;
  userOid?: string;
  lifetimeSeconds?: number;
  /** Extra or overriding claims. */
  claims?: Record<string, unknown>;
}

/** The default app's Graph application permissions: what the Mailward connector needs, and no more. */
export const DEFAULT_GRAPH_APP_ROLES = [
  "Mail.ReadWrite",
  "Mail.Send",
  "User.Read.All",
  "GroupMember.Read.All",
  "MailboxSettings.ReadWrite",
  "Domain.Read.All",
];

/** The Graph resource as it appears in scopes and in the `aud` of Graph tokens. */
export const GRAPH_RESOURCE = "https://graph.microsoft.com";
