import type { EntraContext } from "./context";
import { GRAPH_RESOURCE, type FakeEntraApp } from "./types";

/** OpenID Connect scopes, which ask for an ID token / refresh token rather than API access. */
export const OIDC_SCOPES = new Set(["openid", "profile", "offline_access", "email"]);
const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";

/** The resource a set of scopes targets, and the permission names granted on it. */
export interface ResolvedScopes {
  resource: "graph" | "api";
  /** Permission names without the resource prefix, e.g. `Mail.Read` or `access_as_user`. */
  permissions: string[];
  /** Scopes as returned in the `scope` field of the token response. */
  granted: string[];
  oidc: Set<string>;
}

/** Splits a space-separated scope parameter. */
export function splitScopes(scope: string | null | undefined): string[] {
  return (scope ?? "").split(" ").filter((part) => part.length > 0);
}

/**
 * Works out which resource the requested scopes are for (Graph or our API) and what is granted,
 * expanding `/.default` to the app's consented delegated Graph scopes. Returns an error string when the
 * scopes name an unknown resource or mix resources (Entra refuses both).
 */
export function resolveDelegatedScopes(
  ctx: EntraContext,
  app: FakeEntraApp,
  scopes: string[],
): ResolvedScopes | { error: string } {
  const oidc = new Set(scopes.filter((scope) => OIDC_SCOPES.has(scope)));
  const resourceScopes = scopes.filter((scope) => !OIDC_SCOPES.has(scope));
  let resource: "graph" | "api" | undefined;
  const permissions: string[] = [];
  for (const scope of resourceScopes) {
    const parsed = parseScope(ctx, scope);
    if (!parsed) return { error: `The resource of scope '${scope}' was not found in the tenant.` };
    if (resource && resource !== parsed.resource)
      return { error: "Scopes for more than one resource were requested." };
    resource = parsed.resource;
    if (parsed.permission === ".default") {
      permissions.push(
        ...(parsed.resource === "graph" ? (app.graphDelegatedScopes ?? ["User.Read"]) : ["access_as_user"]),
      );
    } else permissions.push(parsed.permission);
  }
  const finalResource = resource ?? "graph";
  if (permissions.length === 0) permissions.push("User.Read");
  const prefix = finalResource === "graph" ? `${GRAPH_RESOURCE}/` : `${ctx.apiAppIdUri}/`;
  const granted = [...new Set(permissions)].map((permission) => `${prefix}${permission}`).concat([...oidc]);
  return { resource: finalResource, permissions: [...new Set(permissions)], granted, oidc };
}

/** Parses `https://graph.microsoft.com/Mail.Read`, `Mail.Read`, `api://x/access_as_user` or `{clientId}/.default`. */
export function parseScope(
  ctx: EntraContext,
  scope: string,
): { resource: "graph" | "api"; permission: string } | undefined {
  const apiPrefixes = [`${ctx.apiAppIdUri}/`, `${ctx.apiClientId}/`, `api://${ctx.apiClientId}/`];
  for (const prefix of apiPrefixes) {
    if (scope.startsWith(prefix)) return { resource: "api", permission: scope.slice(prefix.length) };
  }
  for (const prefix of [`${GRAPH_RESOURCE}/`, `${GRAPH_APP_ID}/`]) {
    if (scope.startsWith(prefix)) return { resource: "graph", permission: scope.slice(prefix.length) };
  }
  if (!scope.includes("/")) return { resource: "graph", permission: scope };
  return undefined;
}
