import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organisationDomain, organisationDomainList } from "../../../shared/schemas/domains";
import { startTestServer, type TestServer } from "../../support/server";
import type { ApiClient } from "../../support/http";
import { rawMessage, smtpSend, standardDns } from "../mail/gateway/helpers";
import { buildAdminWorld, type AdminWorld } from "./admin-world";
import { pipelineFor } from "../../../server/mail/pipeline/index";
import { runCliCommand } from "../../../server/cli/commands";

// The organisation's mail domains, managed by a tenant admin from the portal: the gateway takes mail for them.
let server: TestServer;
let world: AdminWorld;
let tenantAdmin: ApiClient;

const db = () => server.mailward.services.db;
/** The domains the gateway's verdicts compare senders with (lookalikes, own-domain forgeries), as it has them cached. */
const scannedDomains = async () =>
  (await pipelineFor(server.mailward.services).directory.profile(world.tenantId)).context.domains;

async function domains() {
  const res = await tenantAdmin.request("GET", "/api/admin/domains");
  expect(res.status).toBe(200);
  return organisationDomainList.parse(res.json).items;
}

const inbound = (to: string) =>
  smtpSend(
    server.smtpPort,
    { from: "customer@nice.test", to: [to] },
    rawMessage({ from: "customer@nice.test", to }).raw,
  );

async function auditedDomains(action: string): Promise<string[]> {
  const rows = await db()
    .selectFrom("audit_events")
    .select("target_id")
    .where("tenant_id", "=", world.tenantId)
    .where("action", "=", action)
    .orderBy("seq")
    .execute();
  return rows.map((row) => row.target_id ?? "");
}

beforeAll(async () => {
  server = await startTestServer({}, { dnsResolver: standardDns() });
  world = await buildAdminWorld(db(), server.baseUrl);
  tenantAdmin = (await world.login(["tenant_admin"])).client;
  await db()
    .insertInto("tenant_domains")
    .values({ tenant_id: world.foreignTenantId, domain: "foreign.example" })
    .execute();
});

afterAll(async () => {
  await server?.stop();
});

describe("the organisation's mail domains", () => {
  it("adds a domain, normalised and audited once, and the gateway takes mail for its people at once", async () => {
    expect(await inbound("someone@fresh.example")).toMatchObject({ ok: false, code: 554 });
    expect(await scannedDomains()).not.toContain("fresh.example");
    const added = await tenantAdmin.request("POST", "/api/admin/domains", { domain: " Fresh.Example. " });
    expect(added.status).toBe(200);
    expect(organisationDomain.parse(added.json)).toMatchObject({
      domain: "fresh.example",
      users: 0,
      aliases: 0,
      groups: 0,
    });
    expect(await scannedDomains()).toContain("fresh.example");
    // Again: no change, no second audit event.
    expect(
      (await tenantAdmin.request("POST", "/api/admin/domains", { domain: "fresh.example" })).status,
    ).toBe(200);
    expect(await auditedDomains("tenant.domain_added")).toEqual(["fresh.example"]);
    const idn = await tenantAdmin.request("POST", "/api/admin/domains", { domain: "bücher.example" });
    expect(idn.json).toMatchObject({ domain: "xn--bcher-kva.example" });

    const person = await tenantAdmin.request("POST", "/api/admin/users", { email: "someone@fresh.example" });
    expect(person.status).toBe(201);
    expect(await inbound("someone@fresh.example")).toMatchObject({ ok: true, code: 250 });
    expect(await inbound("nobody@fresh.example")).toMatchObject({ ok: false, code: 550 });
    expect((await domains()).map((d) => d.domain)).toEqual(
      expect.arrayContaining(["example.com", "fresh.example", "xn--bcher-kva.example"]),
    );
  });

  it("refuses what it cannot take with a clear error, and changes nothing", async () => {
    const before = await domains();
    const refused = async (body: unknown, status: number, error: string) => {
      const res = await tenantAdmin.request("POST", "/api/admin/domains", body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.json).toMatchObject({ error });
      return String((res.json as { message: string }).message);
    };
    expect(await refused({ domain: "not a domain" }, 400, "invalid_request")).toContain(
      "not a valid domain name",
    );
    await refused({ domain: "localhost" }, 400, "invalid_request");
    await refused({}, 400, "invalid_request");
    await refused({ domain: "fine.example", extra: 1 }, 400, "invalid_request");
    expect(await refused({ domain: "FOREIGN.example" }, 409, "already_exists")).toContain("another tenant");
    expect(await domains()).toEqual(before);
  });

  it("lists the people, other addresses and groups that take mail in each domain, and keeps a domain while they do", async () => {
    expect(
      (await tenantAdmin.request("POST", "/api/admin/domains", { domain: "support.example" })).status,
    ).toBe(200);
    const created = await tenantAdmin.request("POST", "/api/admin/users", { email: "desk@support.example" });
    const desk = created.json as { id: string };
    const tina = await world.user(["agent"]);
    const alias = await tenantAdmin.request("POST", `/api/admin/users/${tina.id}/addresses`, {
      address: "tina@support.example",
    });
    expect(alias.status).toBe(200);
    await db()
      .insertInto("group_addresses")
      .values({
        address: "team@support.example",
        tenant_id: world.tenantId,
        group_oid: "0f6a7b8c-0000-4000-8000-000000000001",
        display_name: "Support team",
      })
      .execute();
    expect((await domains()).find((d) => d.domain === "support.example")).toMatchObject({
      users: 1,
      aliases: 1,
      groups: 1,
    });

    const inUse = await tenantAdmin.request("DELETE", "/api/admin/domains/support.example");
    expect(inUse.status).toBe(409);
    expect(inUse.json).toMatchObject({ error: "domain_in_use" });
    expect((inUse.json as { message: string }).message).toContain(
      "support.example still has 1 person, 1 other address, 1 group",
    );
    expect(await inbound("desk@support.example")).toMatchObject({ ok: true });

    // Disabled people do not keep a domain; the alias and the group are taken away.
    expect((await tenantAdmin.request("POST", `/api/admin/users/${desk.id}/disable`)).status).toBe(200);
    expect(
      (await tenantAdmin.request("DELETE", `/api/admin/users/${tina.id}/addresses/tina@support.example`))
        .status,
    ).toBe(200);
    await db().deleteFrom("group_addresses").where("address", "=", "team@support.example").execute();
    expect((await domains()).find((d) => d.domain === "support.example")).toMatchObject({
      users: 0,
      aliases: 0,
      groups: 0,
    });
    // The gateway confirms desk@ (disabled people's mail still comes in) and remembers that for a few seconds.
    expect(await inbound("desk@support.example")).toMatchObject({ ok: true });
    expect((await tenantAdmin.request("DELETE", "/api/admin/domains/Support.Example")).status).toBe(204);
    expect(await auditedDomains("tenant.domain_removed")).toEqual(["support.example"]);
    expect((await domains()).map((d) => d.domain)).not.toContain("support.example");
    expect(await scannedDomains()).not.toContain("support.example");
    // The gateway no longer takes its mail, at once.
    expect(await inbound("desk@support.example")).toMatchObject({ ok: false, code: 554 });
    expect((await tenantAdmin.request("DELETE", "/api/admin/domains/support.example")).status).toBe(404);
  });

  it("adds a domain from the command line the same way", async () => {
    const cli = async (...args: string[]) => {
      const lines: string[] = [];
      const code = await runCliCommand(server.mailward.services, args, { print: (l) => lines.push(l) }, ".");
      return { code, lines };
    };
    expect(await cli("domain", "add", "CLI.example")).toEqual({
      code: 0,
      lines: ["Added domain cli.example"],
    });
    expect((await domains()).map((d) => d.domain)).toContain("cli.example");
    expect(await scannedDomains()).toContain("cli.example");
    expect(await auditedDomains("tenant.domain_added")).toContain("cli.example");
    expect(await cli("domain", "add", "foreign.example")).toEqual({
      code: 1,
      lines: ["Error (already_exists): foreign.example belongs to another tenant."],
    });
  });

  it("is for tenant admins: a partner admin, who sees their own people only, neither lists nor changes them", async () => {
    const partnerAdmin = (await world.login(["partner_admin"], { partnerId: world.partnerId })).client;
    expect((await partnerAdmin.request("GET", "/api/admin/domains")).status).toBe(403);
    expect(
      (await partnerAdmin.request("POST", "/api/admin/domains", { domain: "partner.example" })).status,
    ).toBe(403);
    expect((await partnerAdmin.request("DELETE", "/api/admin/domains/example.com")).status).toBe(403);
    expect((await domains()).map((d) => d.domain)).not.toContain("partner.example");
  });
});
