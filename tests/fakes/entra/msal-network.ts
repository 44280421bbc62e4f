import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from "@azure/msal-node";

/** The part of an EntraFake the network client needs. */
export interface MsalNetworkTarget {
  url: string;
  publicBaseUrl: string;
}

/** One request msal made, for tests that assert what msal asked for (never the body: it holds secrets). */
export interface MsalNetworkLogEntry {
  method: "GET" | "POST";
  url: string;
  status: number;
}

/** A msal-node network module that sends login.microsoftonline.com traffic to the fake, plus its log. */
export interface MsalNetworkClient extends INetworkModule {
  requests: MsalNetworkLogEntry[];
}

/**
 * msal-node's `system.networkClient` for tests: rewrites the fake's public host (and
 * login.microsoftonline.com) to the fake's local URL, and refuses every other host so that no test can
 * reach the real cloud. Pass it as `new ConfidentialClientApplication({ auth: { authority: fake.authority, ... },
 * system: { networkClient } })`; msal's built-in metadata for login.microsoftonline.com means no discovery call
 * is needed, and the fake also answers /common/discovery/instance and the openid-configuration if one is made.
 */
export function createMsalNetworkClient(fake: MsalNetworkTarget): MsalNetworkClient {
  const hosts = new Set([new URL(fake.publicBaseUrl).origin, "https://login.microsoftonline.com"]);
  const requests: MsalNetworkLogEntry[] = [];

  const rewrite = (target: string): string => {
    const parsed = new URL(target);
    if (parsed.origin === new URL(fake.url).origin) return target;
    if (!hosts.has(parsed.origin)) throw new Error(`The Entra fake network client refuses ${parsed.origin}`);
    return `${fake.url}${parsed.pathname}${parsed.search}`;
  };

  const send = async <T>(
    method: "GET" | "POST",
    url: string,
    options?: NetworkRequestOptions,
  ): Promise<NetworkResponse<T>> => {
    const response = await fetch(rewrite(url), {
      method,
      headers: options?.headers ?? {},
      ...(method === "POST" ? { body: options?.body ?? "" } : {}),
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      headers[key] = value;
    });
    requests.push({ method, url, status: response.status });
    return { headers, body: (await response.json()) as T, status: response.status };
  };

  return {
    requests,
    sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>("GET", url, options),
    sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>("POST", url, options),
  };
}
