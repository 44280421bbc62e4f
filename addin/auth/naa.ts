import {
  createNestablePublicClientApplication,
  type AuthenticationResult,
  type IPublicClientApplication,
} from "@azure/msal-browser";
import type { AuthConfig } from "./config";
import type { AccessToken, TokenProvider } from "./strategies";

function toAccessToken(result: AuthenticationResult): AccessToken {
  return { token: result.accessToken, expiresAt: result.expiresOn?.getTime() ?? Date.now() + 5 * 60_000 };
}

/** True when the Outlook client says it supports nested app authentication. */
export function nestedAppAuthSupported(): boolean {
  try {
    return Office.context.requirements.isSetSupported("NestedAppAuth", "1.1");
  } catch {
    return false;
  }
}

/**
 * Access tokens for our API via nested app authentication (MSAL `createNestablePublicClientApplication`):
 * silent first, then a popup, then `fallback` (Office's SSO, then the sign-in dialog) where nested app auth is not
 * available or fails. Only tokens for our API scope are requested, never Graph tokens.
 */
export function createNaaTokenProvider(
  config: AuthConfig & { clientId: string; apiScope: string },
  fallback: () => Promise<AccessToken>,
): TokenProvider {
  let application: Promise<IPublicClientApplication> | null = null;
  const scopes = [config.apiScope];
  return {
    async getToken(forceRefresh: boolean) {
      if (!nestedAppAuthSupported()) return fallback();
      try {
        application ??= createNestablePublicClientApplication({
          auth: { clientId: config.clientId, authority: config.authority },
        });
        // A failed start is not kept: the next call tries nested app auth again instead of the dialog for good.
        const pca = await application.catch((error: unknown) => {
          application = null;
          throw error;
        });
        const account = pca.getActiveAccount() ?? pca.getAllAccounts()[0];
        try {
          return toAccessToken(await pca.acquireTokenSilent({ scopes, account, forceRefresh }));
        } catch {
          return toAccessToken(await pca.acquireTokenPopup({ scopes }));
        }
      } catch {
        return fallback();
      }
    },
  };
}
