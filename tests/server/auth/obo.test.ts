import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { createMsalNetworkClient, GRAPH_RESOURCE, startEntraFake, type EntraFake } from "../../fakes/entra";
import { createConfidentialClient } from "../../../server/auth/entra/msal";
import { entraSettingsFrom } from "../../../server/auth/entra/settings";
import { createOboClient, type OboClient } from "../../../server/auth/obo";
import { createLogger } from "../../../server/logger";
import { ApiError } from "../../../server/http/errors";
import { testConfig } from "../../support/services";
import { entraEnv } from "./entra-env";

let entra: EntraFake;
let obo: OboClient;

beforeAll(async () => {
  entra = await startEntraFake();
  const settings = entraSettingsFrom(testConfig(entraEnv(entra)));
  if (!settings) throw new Error("Entra settings expected");
  const client = await createConfidentialClient(
    settings,
    createLogger("silent"),
    createMsalNetworkClient(entra),
  );
  if (!client) throw new Error("confidential client expected");
  obo = createOboClient(client, settings);
});
afterAll(async () => {
  await entra?.close();
});

const oboCalls = () =>
  entra.tokenRequests.filter((r) => r.grantType === "urn:ietf:params:oauth:grant-type:jwt-bearer").length;

describe("on-behalf-of (msal-node ConfidentialClientApplication)", () => {
  it("exchanges the add-in's token for a Graph token of the same person, then serves it from msal's cache", async () => {
    const assertion = await entra.mintAccessToken();
    const before = oboCalls();
    const first = await obo.graphTokenFor(assertion, [`${GRAPH_RESOURCE}/Mail.ReadWrite`]);
    const claims = decodeJwt(first.accessToken);
    expect(claims).toMatchObject({
      aud: GRAPH_RESOURCE,
      oid: decodeJwt(assertion).oid,
      tid: entra.tenantId,
      scp: "Mail.ReadWrite",
    });
    expect(first.fromCache).toBe(false);
    const second = await obo.graphTokenFor(assertion, [`${GRAPH_RESOURCE}/Mail.ReadWrite`]);
    expect(second.fromCache).toBe(true);
    expect(second.accessToken).toBe(first.accessToken);
    expect(oboCalls() - before).toBe(1);
  });

  it("goes back to Entra for another person's token (the cache is per assertion)", async () => {
    const before = oboCalls();
    await obo.graphTokenFor(await entra.mintAccessToken({ oid: "00000000-0000-4000-8000-0000000000b2" }), [
      `${GRAPH_RESOURCE}/Mail.ReadWrite`,
    ]);
    expect(oboCalls() - before).toBe(1);
  });

  it("turns Entra's refusal (an assertion it did not sign) into 401 invalid_token", async () => {
    const error = await obo.graphTokenFor(await entra.badTokens.unknownKid()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).id).toBe("invalid_token");
  });

  it("refuses an assertion from a directory that is not allowed, without calling Entra", async () => {
    const before = entra.tokenRequests.length;
    const error = await obo.graphTokenFor(await entra.badTokens.tenantNotAllowed()).catch((e: unknown) => e);
    expect((error as ApiError).id).toBe("invalid_token");
    expect(entra.tokenRequests.length).toBe(before);
  });
});
