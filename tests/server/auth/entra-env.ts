import { DEFAULT_CLIENT_SECRET, type EntraFake } from "../../fakes/entra";

/** Settings that point Mailward's Entra integration at the fake (JWKS by URL; msal through the network client). */
export function entraEnv(fake: EntraFake, extra: Record<string, string> = {}): Record<string, string> {
  return {
    MAILWARD_ENTRA_CLIENT_ID: fake.apiClientId,
    MAILWARD_ENTRA_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    MAILWARD_ENTRA_AUTHORITY: fake.publicBaseUrl,
    MAILWARD_ENTRA_JWKS_URL: `${fake.url}/{tenantid}/discovery/v2.0/keys`,
    MAILWARD_ENTRA_TENANT_ID: fake.tenantId,
    MAILWARD_ENTRA_JIT_USERS: "true",
    // The directory's people sign in as …@contoso.test: the organisation's mail domain, as in a real tenant.
    MAILWARD_TENANT_DOMAINS: "example.com,contoso.test",
    ...extra,
  };
}
