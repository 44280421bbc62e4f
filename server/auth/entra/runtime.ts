import type { ConfidentialClientApplication, INetworkModule } from "@azure/msal-node";
import type { Services } from "../../context";
import type { BearerVerifier } from "../../http/authenticate";
import { createConfidentialClient } from "./msal";
import { createOboClient, type OboClient } from "../obo";
import { entraSettingsFrom, type EntraSettings } from "./settings";
import { resolveEntraUser } from "./users";
import { createJwksResolver, verifyEntraAccessToken, type JwksResolver } from "./verify";

/** Everything Entra-related a running server needs, built once at start. */
export interface EntraRuntime {
  settings: EntraSettings;
  keys: JwksResolver;
  /** The `BearerVerifier` given to createApp: validates the token and maps it to a user. */
  verifyBearer: BearerVerifier;
  /** The confidential client (null without MAILWARD_ENTRA_CLIENT_SECRET: bearer tokens only). */
  client: ConfidentialClientApplication | null;
  obo: OboClient | null;
}

/** Options tests use: the msal network client that reaches the Entra fake. */
export interface EntraRuntimeOptions {
  networkClient?: INetworkModule;
}

const registry = new WeakMap<Services, EntraRuntime>();

/** Builds the Entra runtime from settings, or null when Entra is not configured. */
export async function createEntraRuntime(
  services: Services,
  options: EntraRuntimeOptions = {},
): Promise<EntraRuntime | null> {
  const settings = entraSettingsFrom(services.config);
  if (!settings) return null;
  const keys = createJwksResolver(settings);
  const client = await createConfidentialClient(settings, services.logger, options.networkClient);
  const runtime: EntraRuntime = {
    settings,
    keys,
    client,
    obo: client ? createOboClient(client, settings) : null,
    verifyBearer: async (token, svc) => {
      const verified = await verifyEntraAccessToken(token, settings, keys, svc.now());
      const { userId } = await resolveEntraUser(svc, verified, settings, null);
      return { userId };
    },
  };
  registry.set(services, runtime);
  return runtime;
}

/** The Entra runtime of a running server (null when Entra is not configured). */
export function entraOf(services: Services): EntraRuntime | null {
  return registry.get(services) ?? null;
}
