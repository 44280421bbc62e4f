import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../../server/context";
import { organisationDomain } from "../../../shared/schemas/domains";
import { startTestServer, type TestServer } from "../../support/server";
import type { ApiClient } from "../../support/http";
import { signedInPerson } from "../../support/sign-in";
import { auditDetailsOf } from "../../support/audit";
import { buildTenant } from "../../factories";
import { startGraphTestKit, type GraphTestKit } from "./kit";
import { defaultTenantId, graphStartOptions, graphTestEnv } from "./harness";

// With the Graph connector, a domain Microsoft has verified for the organisation's own Entra directory is verified
// here without a DNS record of ours (GET /domains/{id}, Domain.Read.All). The server runs with DNS offline, so a
// domain that is not verified that way can only end in the DNS check's 503.
const PASSWORD = "Entra-domains-passw0rd!";

let kit: GraphTestKit;
let server: TestServer;
let services: Services;
let admin: ApiClient;

async function signedInAdmin(tenantId: string): Promise<ApiClient> {
  return (
    await signedInPerson(services.db, server.baseUrl, {
      tenantId,
      roles: ["tenant_admin"],
      password: PASSWORD,
    })
  ).client;
}

/** Adds `domain` (pending) and asks for it to be checked. */
async function addAndCheck(client: ApiClient, domain: string) {
  const added = await client.request("POST", "/api/admin/domains", { domain });
  expect(organisationDomain.parse(added.json).status).toBe("pending");
  return client.request("POST", `/api/admin/domains/${domain}/verify`);
}

/** The Graph requests for one domain Mailward sent. */
const domainLookups = (domain: string) =>
  kit.sent.filter((r) => r.method === "GET" && r.url.endsWith(`/v1.0/domains/${domain}`)).length;

beforeAll(async () => {
  kit = await startGraphTestKit({
    domains: [
      { id: "contoso.test" },
      { id: "sales.contoso.test" },
      { id: "second.contoso.test" },
      { id: "unproved.contoso.test", isVerified: false },
    ],
  });
  server = await startTestServer(graphTestEnv(kit), graphStartOptions(kit));
  services = server.mailward.services;
  admin = await signedInAdmin(await defaultTenantId(services));
});

afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

describe("domains Microsoft has verified for the organisation's Entra directory", () => {
  it("are verified without a DNS record, audited as such", async () => {
    const verified = await addAndCheck(admin, "Sales.Contoso.test");
    expect(verified.status).toBe(200);
    expect(organisationDomain.parse(verified.json)).toMatchObject({
      domain: "sales.contoso.test",
      status: "verified",
      verificationRecord: null,
    });
    expect(domainLookups("sales.contoso.test")).toBe(1);
    expect(await auditDetailsOf(services.db, "sales.contoso.test", "tenant.domain_verified")).toEqual([
      { method: "entra" },
    ]);
  });

  it("need the DNS record when Entra has the domain unverified, or not at all", async () => {
    for (const domain of ["unproved.contoso.test", "elsewhere.test"]) {
      const res = await addAndCheck(admin, domain);
      expect(res.status, domain).toBe(503);
      expect((res.json as { message: string }).message).toContain("MAILWARD_DNS=offline");
      expect(domainLookups(domain), domain).toBe(1);
    }
  });

  it("need the DNS record when the directory's domains cannot be read (no Domain.Read.All)", async () => {
    const fault = kit.graph.faults.add({
      status: 403,
      code: "Authorization_RequestDenied",
      message: "Insufficient privileges to complete the operation.",
      count: Number.POSITIVE_INFINITY,
      match: { path: "/domains/" },
    });
    try {
      const res = await addAndCheck(admin, "second.contoso.test");
      expect(res.status).toBe(503);
    } finally {
      kit.graph.faults.remove(fault);
    }
    expect(domainLookups("second.contoso.test")).toBe(1);
  });

  it("are not another organisation's to claim: one without a directory of its own is not read from this one", async () => {
    const other = await buildTenant(services.db, { domains: ["other.test"] });
    const otherAdmin = await signedInAdmin(other.id);
    const before = kit.sent.length;
    const res = await addAndCheck(otherAdmin, "second.contoso.test");
    expect(res.status).toBe(503);
    expect(kit.sent.slice(before).filter((r) => r.url.includes("/domains/"))).toEqual([]);
    expect((await otherAdmin.request("GET", "/api/admin/domains")).json).toMatchObject({
      items: expect.arrayContaining([
        expect.objectContaining({ domain: "second.contoso.test", status: "pending" }),
      ]),
    });
  });
});
