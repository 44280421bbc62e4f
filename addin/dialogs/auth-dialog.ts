/**
 * The sign-in page of the nested-app-auth fallback (auth-dialog.html), opened in an Office dialog by
 * auth/dialog.ts. Runs MSAL's redirect flow for our API scope only and posts the access token back.
 */
import { createStandardPublicClientApplication, type AuthenticationResult } from "@azure/msal-browser";
import type { AuthDialogMessage } from "../auth/dialog";
import { readAuthConfig } from "../auth/config";
import { postToParent } from "./messageParent";

function send(message: AuthDialogMessage): void {
  postToParent(JSON.stringify(message));
}

function tokenMessage(result: AuthenticationResult): AuthDialogMessage {
  return {
    type: "token",
    accessToken: result.accessToken,
    expiresAt: result.expiresOn?.getTime() ?? Date.now() + 5 * 60_000,
  };
}

async function signIn(): Promise<void> {
  const config = readAuthConfig();
  if (!config.clientId || !config.apiScope) {
    send({ type: "error", message: "Microsoft sign-in is not configured for this Mailward server." });
    return;
  }
  const scopes = [config.apiScope];
  const pca = await createStandardPublicClientApplication({
    auth: {
      clientId: config.clientId,
      authority: config.authority,
      redirectUri: `${location.origin}/auth-dialog.html`,
    },
    cache: { cacheLocation: "sessionStorage" },
  });
  const redirected = await pca.handleRedirectPromise();
  if (redirected) {
    send(tokenMessage(redirected));
    return;
  }
  const account = pca.getAllAccounts()[0];
  if (account) {
    try {
      send(tokenMessage(await pca.acquireTokenSilent({ scopes, account })));
      return;
    } catch {
      // Fall through to an interactive sign-in.
    }
  }
  await pca.loginRedirect({ scopes });
}

Office.onReady(() => {
  signIn().catch(() => send({ type: "error", message: "Sign-in failed. Close this window and try again." }));
});
