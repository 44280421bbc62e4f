import { randomUUID } from "node:crypto";
import { decodeProtectedHeader, importSPKI, importX509, jwtVerify, type CryptoKey } from "jose";
import { findApp, type EntraContext } from "./context";
import type { FakeEntraApp } from "./types";

/** What the token endpoint answers: an HTTP status and a JSON body. */
export interface TokenEndpointResult {
  status: number;
  body: Record<string, unknown>;
}

/** An Entra (AADSTS) OAuth error response, shaped like the real one. */
export function aadError(
  status: number,
  error: string,
  code: number,
  description: string,
): TokenEndpointResult {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
  return {
    status,
    body: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
    },
  };
}

/** A client that proved who it is, or the error to answer. */
export type ClientAuthOutcome = { ok: true; app: FakeEntraApp } | { ok: false; result: TokenEndpointResult };

const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/**
 * Authenticates a confidential client by client_secret or by a certificate-signed client_assertion
 * (iss = sub = client_id, aud = this token endpoint), as Entra does.
 */
export async function authenticateClient(
  ctx: EntraContext,
  form: URLSearchParams,
  tokenEndpoints: string[],
): Promise<ClientAuthOutcome> {
  const clientId = form.get("client_id") ?? undefined;
  const app = findApp(ctx, clientId);
  if (!app) {
    const message = `Application with identifier '${clientId ?? ""}' was not found in the directory.`;
    return { ok: false, result: aadError(400, "unauthorized_client", 700016, message) };
  }
  const secret = form.get("client_secret");
  const assertion = form.get("client_assertion");
  if (secret !== null) {
    if (app.clientSecret !== undefined && secret === app.clientSecret) return { ok: true, app };
    const message = `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`;
    return { ok: false, result: aadError(401, "invalid_client", 7000215, message) };
  }
  if (assertion !== null) {
    if (form.get("client_assertion_type") !== ASSERTION_TYPE || !app.certificatePem) {
      return {
        ok: false,
        result: aadError(401, "invalid_client", 700027, "Client assertion failed signature validation."),
      };
    }
    try {
      const key = await importCertificateKey(app.certificatePem, assertion);
      const { payload } = await jwtVerify(assertion, key, { audience: tokenEndpoints, clockTolerance: 300 });
      if (payload.iss !== app.clientId || payload.sub !== app.clientId)
        throw new Error("iss/sub is not the client id");
      return { ok: true, app };
    } catch {
      return {
        ok: false,
        result: aadError(401, "invalid_client", 700027, "Client assertion failed signature validation."),
      };
    }
  }
  const message =
    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.";
  return { ok: false, result: aadError(401, "invalid_client", 7000218, message) };
}

async function importCertificateKey(pem: string, assertion: string): Promise<CryptoKey> {
  const alg = decodeProtectedHeader(assertion).alg ?? "RS256";
  if (alg !== "RS256" && alg !== "PS256") throw new Error(`unsupported alg ${alg}`);
  return pem.includes("BEGIN CERTIFICATE") ? importX509(pem, alg) : importSPKI(pem, alg);
}
