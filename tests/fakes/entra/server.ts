import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { JSONWebKeySet } from "jose";
import { handleAuthorize, renderFormPost } from "./authorize";
import { createBadTokens, type BadTokenFactories } from "./bad-tokens";
import { createEntraContext, issuerFor, type EntraContext } from "./context";
import { handleTokenRequest } from "./grants";
import { createSigningKey, KeyRing } from "./keys";
import { mintApiAccessToken, mintGraphToken } from "./tokens";
import type {
  AccessTokenClaims,
  EntraFakeOptions,
  FakeEntraApp,
  FakeEntraUser,
  GraphTokenOptions,
  TokenRequestLogEntry,
} from "./types";

/** A running fake Entra ID: endpoints, token minting and controls for tests. */
export interface EntraFake {
  /** Local base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  tenantId: string;
  /** Scheme+host in `iss` and metadata (default https://login.microsoftonline.com). */
  publicBaseUrl: string;
  /** The v2 issuer of the main tenant (what our API is configured with). */
  issuer: string;
  /** The msal authority of the main tenant: `${publicBaseUrl}/${tenantId}`. */
  authority: string;
  /** Local (reachable) JWKS and metadata URLs of the main tenant. */
  jwksUrl: string;
  openIdConfigurationUrl: string;
  apiClientId: string;
  apiAppIdUri: string;
  apps: FakeEntraApp[];
  users: FakeEntraUser[];
  /** The v2 issuer of any tenant. */
  issuerFor(tenantId: string): string;
  /** The current JWKS (what /discovery/v2.0/keys serves). */
  jwks(): JSONWebKeySet;
  /** A valid v2 access token for our API; overrides replace claims, `undefined` removes one. */
  mintAccessToken(overrides?: AccessTokenClaims): Promise<string>;
  /** A Graph access token (app-only by default; delegated when `scp` is given). */
  mintGraphToken(options?: GraphTokenOptions): Promise<string>;
  /** One factory per token our API must refuse (issue 4). */
  badTokens: BadTokenFactories;
  /** Publishes a new signing key and signs with it; `dropOld` removes the previous keys from the JWKS. */
  rotateSigningKey(dropOld?: boolean): Promise<void>;
  /** Every call to the token endpoint, oldest first. */
  tokenRequests: TokenRequestLogEntry[];
  close(): Promise<void>;
}

/** Starts the fake Entra ID on 127.0.0.1 with an ephemeral port. */
export async function startEntraFake(options: EntraFakeOptions = {}): Promise<EntraFake> {
  const ctx = createEntraContext(options, new KeyRing(await createSigningKey()));
  let localUrl = "";
  const server = createServer((req, res) => {
    route(ctx, localUrl, req, res).catch((error: unknown) => {
      sendJson(res, 500, {
        error: "server_error",
        error_description: error instanceof Error ? error.message : "failure",
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  localUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (options.publicBaseUrl === "local") ctx.publicBaseUrl = localUrl;
  return {
    url: localUrl,
    tenantId: ctx.tenantId,
    publicBaseUrl: ctx.publicBaseUrl,
    issuer: issuerFor(ctx, ctx.tenantId),
    authority: `${ctx.publicBaseUrl}/${ctx.tenantId}`,
    jwksUrl: `${localUrl}/${ctx.tenantId}/discovery/v2.0/keys`,
    openIdConfigurationUrl: `${localUrl}/${ctx.tenantId}/v2.0/.well-known/openid-configuration`,
    apiClientId: ctx.apiClientId,
    apiAppIdUri: ctx.apiAppIdUri,
    apps: ctx.apps,
    users: ctx.users,
    issuerFor: (tenantId) => issuerFor(ctx, tenantId),
    jwks: () => ctx.keys.jwks(),
    mintAccessToken: (overrides) => mintApiAccessToken(ctx, overrides),
    mintGraphToken: (graphOptions) => mintGraphToken(ctx, graphOptions),
    badTokens: createBadTokens(ctx),
    rotateSigningKey: async (dropOld) => {
      await ctx.keys.rotate(dropOld);
    },
    tokenRequests: ctx.tokenLog,
    close: () => closeServer(server),
  };
}

async function route(
  ctx: EntraContext,
  localUrl: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", localUrl);
  const segments = url.pathname.split("/").filter(Boolean);
  const tenant = segments[0] ?? "";
  const rest = segments.slice(1).join("/");
  if (req.method === "GET" && tenant === "common" && rest === "discovery/instance") {
    return sendJson(res, 200, instanceDiscovery(ctx, localUrl));
  }
  if (req.method === "GET" && rest === "v2.0/.well-known/openid-configuration") {
    if (!knownTenant(ctx, tenant))
      return sendJson(res, 400, {
        error: "invalid_tenant",
        error_description: `AADSTS90002: Tenant '${tenant}' not found.`,
      });
    return sendJson(res, 200, openIdConfiguration(ctx, tenant));
  }
  if (req.method === "GET" && rest === "discovery/v2.0/keys") return sendJson(res, 200, ctx.keys.jwks());
  if (req.method === "GET" && rest === "oauth2/v2.0/authorize") {
    const result = handleAuthorize(ctx, tenant, url.searchParams);
    if (result.kind === "redirect") {
      res.writeHead(302, { location: result.location }).end();
    } else if (result.kind === "form_post") {
      res
        .writeHead(200, { "content-type": "text/html; charset=utf-8" })
        .end(renderFormPost(result.action, result.fields));
    } else {
      res.writeHead(result.status, { "content-type": "text/plain; charset=utf-8" }).end(result.message);
    }
    return;
  }
  if (req.method === "GET" && rest === "oauth2/v2.0/logout") {
    const target = url.searchParams.get("post_logout_redirect_uri");
    res.writeHead(target ? 302 : 200, target ? { location: target } : {}).end();
    return;
  }
  if (req.method === "POST" && rest === "oauth2/v2.0/token") {
    const form = new URLSearchParams(await readBody(req));
    const endpoints = [
      `${ctx.publicBaseUrl}/${tenant}/oauth2/v2.0/token`,
      `${localUrl}/${tenant}/oauth2/v2.0/token`,
    ];
    const result = await handleTokenRequest(ctx, tenant, form, endpoints);
    ctx.tokenLog.push({
      at: Date.now(),
      tenant,
      grantType: form.get("grant_type") ?? "",
      clientId: form.get("client_id") ?? undefined,
      scope: form.get("scope") ?? undefined,
      status: result.status,
      ...(typeof result.body.error === "string" ? { error: result.body.error } : {}),
    });
    return sendJson(res, result.status, result.body);
  }
  sendJson(res, 404, {
    error: "not_found",
    error_description: `No such endpoint: ${req.method ?? ""} ${url.pathname}`,
  });
}

function knownTenant(ctx: EntraContext, tenant: string): boolean {
  return ctx.tenants.has(tenant) || tenant === "common" || tenant === "organizations";
}

function openIdConfiguration(ctx: EntraContext, tenant: string): Record<string, unknown> {
  const base = `${ctx.publicBaseUrl}/${tenant}`;
  const issuerTenant = ctx.tenants.has(tenant) ? tenant : "{tenantid}";
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    issuer: issuerFor(ctx, issuerTenant),
    request_uri_parameter_supported: false,
    userinfo_endpoint: "https://graph.microsoft.com/oidc/userinfo",
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: [
      "sub",
      "iss",
      "aud",
      "exp",
      "iat",
      "nonce",
      "preferred_username",
      "name",
      "tid",
      "ver",
      "oid",
    ],
    tenant_region_scope: "EU",
    cloud_instance_name: "microsoftonline.com",
    cloud_graph_host_name: "graph.windows.net",
    msgraph_host: "graph.microsoft.com",
  };
}

function instanceDiscovery(ctx: EntraContext, localUrl: string): Record<string, unknown> {
  const host = new URL(ctx.publicBaseUrl).host;
  return {
    tenant_discovery_endpoint: `${ctx.publicBaseUrl}/${ctx.tenantId}/v2.0/.well-known/openid-configuration`,
    "api-version": "1.1",
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host, new URL(localUrl).host] }],
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store, no-cache",
  });
  res.end(JSON.stringify(body));
}

/** Closes a server, dropping idle keep-alive connections so tests don't hang. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
