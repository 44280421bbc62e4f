import type { ConfidentialClientApplication } from "@azure/msal-node";
import { decodeJwt } from "jose";
import type { Request } from "express";
import { ApiError } from "../http/errors";
import type { EntraSettings } from "./entra/settings";

/** The default Graph scope of an on-behalf-of exchange: whatever the app was consented for. */
export const GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default";

/** A Graph token obtained on behalf of the signed-in person. */
export interface DelegatedToken {
  accessToken: string;
  expiresOn: Date | null;
  /** True when msal answered from its cache (no call to Entra). */
  fromCache: boolean;
}

/** Exchanges the add-in's token for a Graph token on the person's behalf (OAuth 2.0 OBO). */
export interface OboClient {
  graphTokenFor(userAssertion: string, scopes?: string[]): Promise<DelegatedToken>;
}

/**
 * On-behalf-of with msal-node: the token is requested from the person's own
 * tenant, and msal caches it by the assertion, so repeated calls within its
 * lifetime don't go back to Entra. Errors never carry the tokens.
 */
export function createOboClient(client: ConfidentialClientApplication, settings: EntraSettings): OboClient {
  return {
    async graphTokenFor(userAssertion, scopes = [GRAPH_DEFAULT_SCOPE]) {
      let tenantId: string;
      try {
        const tid = decodeJwt(userAssertion).tid;
        if (typeof tid !== "string" || !settings.allowedTenants.has(tid.toLowerCase()))
          throw new Error("tenant");
        tenantId = tid;
      } catch {
        throw new ApiError("invalid_token");
      }
      try {
        const result = await client.acquireTokenOnBehalfOf({
          oboAssertion: userAssertion,
          scopes,
          authority: `${settings.authority}/${tenantId}`,
        });
        if (!result?.accessToken)
          throw new ApiError("service_unavailable", "Microsoft did not return a token.");
        return { accessToken: result.accessToken, expiresOn: result.expiresOn, fromCache: result.fromCache };
      } catch (error) {
        if (error instanceof ApiError) throw error;
        if (/invalid_grant|interaction_required|consent_required/.test(msalErrorCodes(error))) {
          throw new ApiError("invalid_token", "Microsoft refused to act on your behalf. Sign in again.");
        }
        throw new ApiError("service_unavailable", "Could not reach Microsoft to act on your behalf.");
      }
    },
  };
}

/** msal's error code and sub-code (AuthError fields), read without loading msal for an instanceof. */
function msalErrorCodes(error: unknown): string {
  if (typeof error !== "object" || error === null) return "";
  const { errorCode, subError } = error as { errorCode?: unknown; subError?: unknown };
  return `${typeof errorCode === "string" ? errorCode : ""} ${typeof subError === "string" ? subError : ""}`;
}

/** The bearer token of a request, for an OBO exchange in a route handler. */
export function bearerTokenOf(req: Request): string | null {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? null;
}
