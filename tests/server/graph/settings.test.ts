import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphSettingsFrom } from "../../../server/graph/settings";
import { createAppTokenProvider } from "../../../server/graph/token";
import { createLogger } from "../../../server/logger";
import { testConfig } from "../../support/services";
import { selfSignedCertificate } from "../../support/certificates";
import { createMsalNetworkClient, startEntraFake, type EntraFake } from "../../fakes/entra";

const CERT_APP = "0c3e7a1c-0000-4000-8000-00000000ce47";
let dir: string;
let keyAndCert: string;
let keyOnly: string;
let certificate: string;
let certFile: string;
let entra: EntraFake;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailward-graph-cert-"));
  const pair = selfSignedCertificate(dir, "graph", "mailward-graph");
  certFile = pair.certFile;
  certificate = fs.readFileSync(certFile, "utf8");
  keyOnly = pair.keyFile;
  keyAndCert = path.join(dir, "both.pem");
  fs.writeFileSync(keyAndCert, fs.readFileSync(keyOnly, "utf8") + certificate);
  entra = await startEntraFake({
    apps: [
      {
        clientId: CERT_APP,
        certificatePem: certificate,
        graphAppRoles: ["Mail.ReadWrite", "Mail.Send", "User.Read.All"],
      },
    ],
  });
});
afterAll(async () => {
  await entra?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("Graph settings", () => {
  it("is off without MAILWARD_GRAPH_CLIENT_ID", () => {
    expect(graphSettingsFrom(testConfig())).toBeNull();
  });

  it("needs the directory and a credential once a client id is set", () => {
    expect(() => graphSettingsFrom(testConfig({ MAILWARD_GRAPH_CLIENT_ID: CERT_APP }))).toThrow(
      /MAILWARD_GRAPH_TENANT_ID/,
    );
    expect(() =>
      graphSettingsFrom(testConfig({ MAILWARD_GRAPH_CLIENT_ID: CERT_APP, MAILWARD_GRAPH_TENANT_ID: "t" })),
    ).toThrow(/SECRET or MAILWARD_GRAPH_CERTIFICATE_PATH/);
    expect(() => testConfig({ MAILWARD_GRAPH_SUBSCRIPTION_MINUTES: "20000" })).toThrow(
      /MAILWARD_GRAPH_SUBSCRIPTION_MINUTES/,
    );
  });

  it("defaults: 4,230-minute subscriptions, 4 requests per mailbox, webhooks under the public URL", () => {
    const settings = graphSettingsFrom(
      testConfig({
        MAILWARD_GRAPH_CLIENT_ID: CERT_APP,
        MAILWARD_GRAPH_TENANT_ID: "T",
        MAILWARD_GRAPH_CLIENT_SECRET: "x",
        MAILWARD_PUBLIC_URL: "https://mail.example.com/",
      }),
    );
    expect(settings).toMatchObject({
      directoryId: "t",
      subscriptionMinutes: 4230,
      maxConcurrency: 4,
      notificationBaseUrl: "https://mail.example.com",
      baseUrl: "https://graph.microsoft.com/v1.0",
      inboxRules: false,
      directorySync: false,
    });
    expect(() => testConfig({ MAILWARD_GRAPH_MAX_CONCURRENCY: "5" })).toThrow(
      /MAILWARD_GRAPH_MAX_CONCURRENCY/,
    );
  });

  it("reads a certificate credential and its SHA-256 thumbprint from a PEM file", () => {
    const settings = graphSettingsFrom(
      testConfig({
        MAILWARD_GRAPH_CLIENT_ID: CERT_APP,
        MAILWARD_GRAPH_TENANT_ID: entra.tenantId,
        MAILWARD_GRAPH_CERTIFICATE_PATH: keyAndCert,
      }),
    );
    const fingerprint = execFileSync(
      "openssl",
      ["x509", "-in", certFile, "-noout", "-fingerprint", "-sha256"],
      { encoding: "utf8" },
    );
    const expected = fingerprint.split("=")[1]?.trim().replace(/:/g, "").toLowerCase();
    expect(settings?.credential).toMatchObject({ kind: "certificate", thumbprintSha256: expected });
  });

  it("needs a thumbprint when the PEM holds only the key", () => {
    const base = {
      MAILWARD_GRAPH_CLIENT_ID: CERT_APP,
      MAILWARD_GRAPH_TENANT_ID: entra.tenantId,
      MAILWARD_GRAPH_CERTIFICATE_PATH: keyOnly,
    };
    expect(() => graphSettingsFrom(testConfig(base))).toThrow(/THUMBPRINT/);
    expect(
      graphSettingsFrom(testConfig({ ...base, MAILWARD_GRAPH_CERTIFICATE_THUMBPRINT: "ab".repeat(32) }))
        ?.credential,
    ).toMatchObject({ thumbprintSha256: "ab".repeat(32) });
  });

  it("gets an app-only Graph token with the certificate (signed client assertion)", async () => {
    const settings = graphSettingsFrom(
      testConfig({
        MAILWARD_GRAPH_CLIENT_ID: CERT_APP,
        MAILWARD_GRAPH_TENANT_ID: entra.tenantId,
        MAILWARD_GRAPH_CERTIFICATE_PATH: keyAndCert,
      }),
    );
    if (!settings) throw new Error("no settings");
    const tokens = createAppTokenProvider(settings, createLogger("silent"), createMsalNetworkClient(entra));
    const claims = decodeJwt(await tokens.tokenFor(entra.tenantId));
    expect(claims.roles).toEqual(["Mail.ReadWrite", "Mail.Send", "User.Read.All"]);
    expect(claims.tid).toBe(entra.tenantId);
  });

  it("reports a refused credential without the secret", async () => {
    const settings = graphSettingsFrom(
      testConfig({
        MAILWARD_GRAPH_CLIENT_ID: CERT_APP,
        MAILWARD_GRAPH_TENANT_ID: entra.tenantId,
        MAILWARD_GRAPH_CLIENT_SECRET: "wrong-secret-value",
      }),
    );
    if (!settings) throw new Error("no settings");
    const tokens = createAppTokenProvider(settings, createLogger("silent"), createMsalNetworkClient(entra));
    const error = await tokens.tokenFor(entra.tenantId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(String((error as Error).message)).not.toContain("wrong-secret-value");
  });
});
