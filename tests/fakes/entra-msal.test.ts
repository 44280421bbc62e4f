import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { ConfidentialClientApplication, CryptoProvider } from "@azure/msal-node";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMsalNetworkClient,
  DEFAULT_CLIENT_SECRET,
  GRAPH_RESOURCE,
  startEntraFake,
  type EntraFake,
} from "./entra";

const CERT_APP_ID = "c3c3c3c3-0000-4000-8000-0000000000c3";
const keyPair = generateKeyPairSync("rsa", { modulusLength: 2048 });
let entra: EntraFake;

beforeAll(async () => {
  entra = await startEntraFake({
    apps: [
      {
        clientId: "5b0e7a1c-0000-4000-8000-0000000a11ce",
        clientSecret: DEFAULT_CLIENT_SECRET,
        graphAppRoles: ["Mail.ReadWrite"],
      },
      {
        clientId: CERT_APP_ID,
        certificatePem: keyPair.publicKey.export({ type: "spki", format: "pem" }).toString(),
        graphAppRoles: ["Mail.Read"],
      },
    ],
  });
});
afterAll(async () => {
  await entra.close();
});

function secretClient(): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: { clientId: entra.apiClientId, authority: entra.authority, clientSecret: DEFAULT_CLIENT_SECRET },
    system: { networkClient: createMsalNetworkClient(entra) },
  });
}

describe("msal-node ConfidentialClientApplication against the Entra fake", () => {
  it("acquires an app-only Graph token by client credentials, then serves it from cache", async () => {
    const network = createMsalNetworkClient(entra);
    const cca = new ConfidentialClientApplication({
      auth: { clientId: entra.apiClientId, authority: entra.authority, clientSecret: DEFAULT_CLIENT_SECRET },
      system: { networkClient: network },
    });
    const before = entra.tokenRequests.length;
    const result = await cca.acquireTokenByClientCredential({ scopes: [`${GRAPH_RESOURCE}/.default`] });
    const claims = decodeJwt(result?.accessToken ?? "");
    expect(claims).toMatchObject({
      aud: GRAPH_RESOURCE,
      tid: entra.tenantId,
      roles: ["Mail.ReadWrite"],
      idtyp: "app",
    });
    await cca.acquireTokenByClientCredential({ scopes: [`${GRAPH_RESOURCE}/.default`] });
    expect(entra.tokenRequests.length - before).toBe(1);
    expect(
      network.requests.every((request) => request.url.startsWith("https://login.microsoftonline.com/")),
    ).toBe(true);
  });

  it("fails client credentials with a wrong secret (invalid_client)", async () => {
    const cca = new ConfidentialClientApplication({
      auth: { clientId: entra.apiClientId, authority: entra.authority, clientSecret: "wrong" },
      system: { networkClient: createMsalNetworkClient(entra) },
    });
    await expect(
      cca.acquireTokenByClientCredential({ scopes: [`${GRAPH_RESOURCE}/.default`] }),
    ).rejects.toThrow(/invalid_client/);
  });

  it("authenticates with a certificate (signed client assertion)", async () => {
    const cca = new ConfidentialClientApplication({
      auth: {
        clientId: CERT_APP_ID,
        authority: entra.authority,
        clientCertificate: {
          thumbprintSha256: createHash("sha256").update(randomBytes(8)).digest("hex"),
          privateKey: keyPair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        },
      },
      system: { networkClient: createMsalNetworkClient(entra) },
    });
    const result = await cca.acquireTokenByClientCredential({ scopes: [`${GRAPH_RESOURCE}/.default`] });
    expect(decodeJwt(result?.accessToken ?? "").roles).toEqual(["Mail.Read"]);
  });

  it("exchanges the add-in's token on behalf of the user for a Graph token of the same oid/tid", async () => {
    const userToken = await entra.mintAccessToken();
    const user = decodeJwt(userToken);
    const result = await secretClient().acquireTokenOnBehalfOf({
      oboAssertion: userToken,
      scopes: [`${GRAPH_RESOURCE}/Mail.Send`],
    });
    const claims = decodeJwt(result?.accessToken ?? "");
    expect(claims).toMatchObject({
      aud: GRAPH_RESOURCE,
      oid: user.oid,
      tid: user.tid,
      scp: "Mail.Send",
      idtyp: "user",
    });
    expect(result?.account?.username).toBe("adele@contoso.test");
  });

  it("refuses OBO with an assertion not signed by the fake, or meant for another audience", async () => {
    const stranger = await entra.badTokens.unknownKid();
    await expect(
      secretClient().acquireTokenOnBehalfOf({
        oboAssertion: stranger,
        scopes: [`${GRAPH_RESOURCE}/Mail.Send`],
      }),
    ).rejects.toThrow(/invalid_grant/);
    const otherAudience = await entra.badTokens.wrongAudience();
    await expect(
      secretClient().acquireTokenOnBehalfOf({
        oboAssertion: otherAudience,
        scopes: [`${GRAPH_RESOURCE}/Mail.Send`],
      }),
    ).rejects.toThrow(/AADSTS50013/);
  });

  it("completes the authorization code flow with PKCE and returns the signed-in account", async () => {
    const cca = secretClient();
    const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
    const redirectUri = "http://localhost:3999/auth/callback";
    const scopes = [`${entra.apiAppIdUri}/access_as_user`];
    const authUrl = await cca.getAuthCodeUrl({
      scopes,
      redirectUri,
      codeChallenge: challenge,
      codeChallengeMethod: "S256",
      state: "s1",
    });
    expect(authUrl.startsWith(`${entra.authority}/oauth2/v2.0/authorize`)).toBe(true);
    const response = await fetch(authUrl.replace(entra.publicBaseUrl, entra.url), { redirect: "manual" });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get("location") ?? "");
    expect(location.searchParams.get("state")).toBe("s1");
    const code = location.searchParams.get("code") ?? "";
    const result = await cca.acquireTokenByCode({ code, redirectUri, scopes, codeVerifier: verifier });
    expect(result.account?.username).toBe("adele@contoso.test");
    expect(decodeJwt(result.accessToken)).toMatchObject({ aud: entra.apiClientId, scp: "access_as_user" });
    await expect(
      cca.acquireTokenByCode({ code, redirectUri, scopes, codeVerifier: verifier }),
    ).rejects.toThrow(/54005/);
  });
});

describe("Entra fake token endpoint (raw OAuth)", () => {
  const tokenUrl = (): string => `${entra.url}/${entra.tenantId}/oauth2/v2.0/token`;
  const post = async (
    params: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }> => {
    const response = await fetch(tokenUrl(), { method: "POST", body: new URLSearchParams(params) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const client = { client_id: "5b0e7a1c-0000-4000-8000-0000000a11ce", client_secret: DEFAULT_CLIENT_SECRET };

  async function authorize(extra: Record<string, string>): Promise<URL> {
    const query = new URLSearchParams({
      client_id: client.client_id,
      response_type: "code",
      redirect_uri: "http://localhost:3999/cb",
      scope: "openid offline_access User.Read",
      ...extra,
    });
    const response = await fetch(`${entra.url}/${entra.tenantId}/oauth2/v2.0/authorize?${query.toString()}`, {
      redirect: "manual",
    });
    return new URL(response.headers.get("location") ?? "");
  }

  it("refuses a code_verifier that does not match the S256 challenge", async () => {
    const verifier = randomBytes(32).toString("base64url");
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const location = await authorize({ code_challenge: challenge, code_challenge_method: "S256" });
    const code = location.searchParams.get("code") ?? "";
    const base = {
      ...client,
      grant_type: "authorization_code",
      code,
      redirect_uri: "http://localhost:3999/cb",
    };
    const wrong = await post({ ...base, code_verifier: `${verifier}x` });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error_codes).toEqual([501481]);
    const right = await post({ ...base, code_verifier: verifier });
    expect(right.status).toBe(200);
    expect(typeof right.body.id_token).toBe("string");
    expect(typeof right.body.refresh_token).toBe("string");
    const refreshed = await post({
      ...client,
      grant_type: "refresh_token",
      refresh_token: String(right.body.refresh_token),
    });
    expect(decodeJwt(String(refreshed.body.access_token)).scp).toBe("User.Read");
  });

  it("redirects with an error when PKCE is missing or not S256", async () => {
    expect((await authorize({})).searchParams.get("error")).toBe("invalid_request");
    expect(
      (await authorize({ code_challenge: "abc", code_challenge_method: "plain" })).searchParams.get("error"),
    ).toBe("invalid_request");
  });

  it("requires /.default for client credentials and a known tenant", async () => {
    const badScope = await post({
      ...client,
      grant_type: "client_credentials",
      scope: `${GRAPH_RESOURCE}/Mail.Read`,
    });
    expect(badScope.body.error).toBe("invalid_scope");
    const response = await fetch(`${entra.url}/not-a-tenant/oauth2/v2.0/token`, {
      method: "POST",
      body: new URLSearchParams({
        ...client,
        grant_type: "client_credentials",
        scope: `${GRAPH_RESOURCE}/.default`,
      }),
    });
    expect(((await response.json()) as { error_codes: number[] }).error_codes).toEqual([90002]);
  });
});
