import type { AuthStrategy } from "../api/http";
import { appOrigin, readAuthConfig, type AuthConfig } from "./config";
import { tokenViaOfficeDialog } from "./dialog";
import { createNaaTokenProvider } from "./naa";
import { officeSsoApi, tokenViaOfficeSsoOr } from "./officeSso";
import { createBearerAuth, createCookieAuth } from "./strategies";

/** The sign-in page the dialog fallback opens (built from addin/dialogs/auth-dialog.ts). */
export const AUTH_DIALOG_PATH = "/auth-dialog.html";

/**
 * Auth inside Outlook: Bearer tokens from nested app auth, then Office's own SSO, then the sign-in dialog, when an
 * Entra client id was built in; otherwise (dev, tests) the cookie session. Kept in its own module so the task pane
 * loads MSAL lazily.
 */
export function createOutlookAuth(config: AuthConfig = readAuthConfig()): AuthStrategy {
  const { clientId, apiScope } = config;
  if (!clientId || !apiScope) return createCookieAuth();
  const provider = createNaaTokenProvider({ ...config, clientId, apiScope }, () =>
    tokenViaOfficeSsoOr(officeSsoApi(), () => tokenViaOfficeDialog(`${appOrigin()}${AUTH_DIALOG_PATH}`)),
  );
  return createBearerAuth(provider);
}
