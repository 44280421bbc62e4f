import type { ConfidentialClientApplication, INetworkModule } from "@azure/msal-node";
import type { Logger } from "../../logger";
import type { EntraSettings } from "./settings";

/**
 * The confidential client (our app registration) used for on-behalf-of and
 * portal sign-in. `networkClient` lets tests reach the Entra fake (DESIGN §7);
 * msal's own log goes to ours at warning level, without PII. msal-node is loaded only
 * when Entra is configured (it is heavy, and the CLI starts through this module graph).
 */
export async function createConfidentialClient(
  settings: EntraSettings,
  logger: Logger,
  networkClient?: INetworkModule,
): Promise<ConfidentialClientApplication | null> {
  if (!settings.clientSecret) return null;
  const { ConfidentialClientApplication, LogLevel } = await import("@azure/msal-node");
  return new ConfidentialClientApplication({
    auth: {
      clientId: settings.clientId,
      clientSecret: settings.clientSecret,
      authority: `${settings.authority}/${settings.signInTenant}`,
    },
    system: {
      ...(networkClient ? { networkClient } : {}),
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: LogLevel.Warning,
        loggerCallback: (level, message) => {
          if (level <= LogLevel.Error) logger.error({ component: "msal" }, message);
          else logger.warn({ component: "msal" }, message);
        },
      },
    },
  });
}
