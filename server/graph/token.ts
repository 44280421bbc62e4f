import { ConfidentialClientApplication, LogLevel, type INetworkModule } from "@azure/msal-node";
import type { Logger } from "../logger";
import type { GraphSettings } from "./settings";

/** The scope of an app-only Graph token: every application permission the tenant's admin consented to. */
export const GRAPH_APP_SCOPE = "https://graph.microsoft.com/.default";

/** Hands out app-only Graph access tokens for a directory; msal caches them until shortly before expiry. */
export interface AppTokenProvider {
  tokenFor(directoryId: string): Promise<string>;
}

/** Raised when Entra refuses or cannot be reached; carries no token and no response body. */
export class GraphTokenError extends Error {
  constructor(
    readonly directoryId: string,
    readonly errorCode: string,
  ) {
    super(`No Graph token for directory ${directoryId} (${errorCode})`);
  }
}

/**
 * App-only tokens with msal-node's client-credentials grant (secret or certificate).
 * One confidential client per directory, so each tenant's token comes from its own
 * authority; msal's in-memory cache answers repeated calls without going to Entra.
 */
export function createAppTokenProvider(
  settings: GraphSettings,
  logger: Logger,
  networkClient?: INetworkModule,
): AppTokenProvider {
  const clients = new Map<string, ConfidentialClientApplication>();
  const clientFor = (directoryId: string): ConfidentialClientApplication => {
    let client = clients.get(directoryId);
    if (client) return client;
    const credential =
      settings.credential.kind === "secret"
        ? { clientSecret: settings.credential.secret }
        : {
            clientCertificate: {
              thumbprintSha256: settings.credential.thumbprintSha256,
              privateKey: settings.credential.privateKey,
              ...(settings.credential.x5c ? { x5c: settings.credential.x5c } : {}),
            },
          };
    client = new ConfidentialClientApplication({
      auth: { clientId: settings.clientId, authority: `${settings.authority}/${directoryId}`, ...credential },
      system: {
        ...(networkClient ? { networkClient } : {}),
        loggerOptions: {
          piiLoggingEnabled: false,
          logLevel: LogLevel.Warning,
          loggerCallback: (level, message) => logger.warn({ component: "msal", level }, message),
        },
      },
    });
    clients.set(directoryId, client);
    return client;
  };
  return {
    async tokenFor(directoryId) {
      try {
        const result = await clientFor(directoryId).acquireTokenByClientCredential({
          scopes: [GRAPH_APP_SCOPE],
        });
        if (!result?.accessToken) throw new GraphTokenError(directoryId, "no_token");
        return result.accessToken;
      } catch (error) {
        if (error instanceof GraphTokenError) throw error;
        const code =
          typeof error === "object" && error !== null && "errorCode" in error
            ? String(error.errorCode)
            : "unreachable";
        throw new GraphTokenError(directoryId, code);
      }
    },
  };
}
