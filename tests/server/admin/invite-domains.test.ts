import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import type { ApiClient } from "../../support/http";
import { buildTenant, buildUser } from "../../factories";
import { runCli } from "../../support/cli";
import { applyDirectoryPerson } from "../../../server/commands/users/directory-person";
import { addressOwner } from "../../../server/commands/users/address-owner";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

// A new person's address (an invitation's, the CLI's `user add`) is not in a mail domain another organisation on this
// server has verified: that organisation owns its addresses, and an account there kept its directory sync, aliases and
// groups from giving the address to its own person. The organisation's own domains (verified or pending) and domains
// nobody here has verified stay open: a partner's agent has an account at the vendor's address in each organisation
// they serve. Another address (alias) is still held to the organisation's own verified domains.
let server: TestServer;
let world: AdminWorld;
let tenantAdmin: ApiClient;
let partnerAdmin: ApiClient;

const db = () => server.mailward.services.db;
const short = () => randomUUID().slice(0, 8);

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  world = await buildAdminWorld(db(), server.baseUrl);
  tenantAdmin = (await world.login(["tenant_admin"])).client;
  partnerAdmin = (await world.login(["partner_admin"], { partnerId: world.partnerId })).client;
});
afterAll(async () => {
  await server?.stop();
});

/** Status, error id and message: everything the inviting admin learns from an answer. */
async function invite(client: ApiClient, body: Record<string, unknown>) {
  const res = await client.request("POST", "/api/admin/users", body);
  return { status: res.status, error: res.json.error, message: res.json.message };
}

/** The accounts and the queued mail (an invitation) at an address, in every organisation. */
async function traces(address: string): Promise<{ accounts: number; mail: number }> {
  const accounts = await db().selectFrom("users").select("id").where("email", "=", address).execute();
  const mail = await db().selectFrom("deliveries").select("id").where("recipient", "=", address).execute();
  return { accounts: accounts.length, mail: mail.length };
}

/** The CLI's answer to `user add <address>`, run by the operator against the default organisation. */
function cliAdd(address: string): Promise<{ code: number; lines: string[] }> {
  return runCli(server.mailward.services, ["user", "add", address]);
}

/** The refusal of an address in another organisation's verified domain: it names the domain, not the organisation. */
const othersDomain = (address: string, domain: string) => ({
  status: 409,
  error: "address_in_other_organisation_domain",
  message: `${address} is in ${domain}, a mail domain another organisation on this server has proved, so its addresses are that organisation's: use an address in one of your own domains.`,
});

/** Gives tina another address (alias), answering its status and error id. */
async function addAlias(userId: string, address: string): Promise<[number, unknown]> {
  const res = await tenantAdmin.request("POST", `/api/admin/users/${userId}/addresses`, { address });
  return [res.status, res.json.error];
}

describe("POST /api/admin/users: an address in another organisation's verified domain", () => {
  it("is refused (invitation, Entra, partner admin, CLI), so that organisation's directory sync still gets its person", async () => {
    const other = await buildTenant(db());
    const domain = other.domains[0] ?? "";
    const desk = `desk-${short()}@${domain}`;
    const sales = `sales-${short()}@${domain}`;
    expect(await invite(tenantAdmin, { email: desk })).toEqual(othersDomain(desk, domain));
    expect(await invite(tenantAdmin, { email: sales, entraOid: randomUUID() })).toEqual(
      othersDomain(sales, domain),
    );
    // A partner admin's invitee too: the same answer, which depends on the domain only and confirms no account.
    expect(await invite(partnerAdmin, { email: desk })).toEqual(othersDomain(desk, domain));
    expect(await cliAdd(sales)).toEqual({
      code: 1,
      lines: [`Error (address_in_other_organisation_domain): ${othersDomain(sales, domain).message}`],
    });
    for (const address of [desk, sales]) expect(await traces(address)).toEqual({ accounts: 0, mail: 0 });
    const synced = await applyDirectoryPerson(server.mailward.services, other.id, {
      oid: randomUUID(),
      primary: desk,
      displayName: "Front desk",
      aliases: [sales],
    });
    expect(synced).toMatchObject({ kind: "created", aliasesAdded: 1, aliasesTaken: [] });
  });

  it("is refused even when that organisation's person already has it", async () => {
    const other = await buildTenant(db());
    const domain = other.domains[0] ?? "";
    const owned = await buildUser(db(), { tenantId: other.id, email: `owner-${short()}@${domain}` });
    expect(await invite(tenantAdmin, { email: owned.email })).toEqual(othersDomain(owned.email, domain));
    expect(await invite(partnerAdmin, { email: owned.email })).toEqual(othersDomain(owned.email, domain));
    expect(await traces(owned.email)).toEqual({ accounts: 1, mail: 0 });
  });
});

describe("a vendor's address two organisations hold", () => {
  it("is the asking organisation's own account, whichever organisation made one first", async () => {
    const agent = `agent@bpo-shared-${short()}.test`;
    const first = await buildTenant(db());
    const second = await buildTenant(db());
    const theirs = await buildUser(db(), { tenantId: first.id, email: agent });
    const own = await buildUser(db(), { tenantId: second.id, email: agent });
    const ownerFor = (tenantId: string) =>
      db()
        .transaction()
        .execute((trx) => addressOwner(trx, agent, tenantId));
    expect(await ownerFor(second.id)).toMatchObject({ kind: "user", userId: own.id });
    expect(await ownerFor(first.id)).toMatchObject({ kind: "user", userId: theirs.id });
  });
});

describe("the directory sync and an account another organisation left in a domain this one has verified", () => {
  it("gives the domain's people their addresses: a new account, a rename and an alias, leaving the old row alone", async () => {
    const domain = `moved-${short()}.example`;
    // The first organisation had the domain (its person is disabled, say, after it removed the domain); the second
    // has proved it since.
    const before = await buildTenant(db(), { domains: [] });
    const owner = await buildTenant(db(), { domains: [domain] });
    const leftovers = [`ann@${domain}`, `bob@${domain}`, `cat@${domain}`];
    for (const email of leftovers) await buildUser(db(), { tenantId: before.id, email });
    const created = await applyDirectoryPerson(server.mailward.services, owner.id, {
      oid: randomUUID(),
      primary: leftovers[0] ?? "",
      displayName: "Ann",
      aliases: [leftovers[2] ?? ""],
    });
    expect(created).toMatchObject({ kind: "created", aliasesAdded: 1, aliasesTaken: [] });
    const oid = randomUUID();
    await applyDirectoryPerson(server.mailward.services, owner.id, {
      oid,
      primary: `robert@${domain}`,
      displayName: "Bob",
      aliases: [],
    });
    const renamed = await applyDirectoryPerson(server.mailward.services, owner.id, {
      oid,
      primary: leftovers[1] ?? "",
      displayName: "Bob",
      aliases: [],
    });
    expect(renamed).toMatchObject({ kind: "updated" });
    const ownPeople = await db()
      .selectFrom("users")
      .select("email")
      .where("tenant_id", "=", owner.id)
      .orderBy("email")
      .execute();
    expect(ownPeople.map((u) => u.email)).toEqual([leftovers[0], leftovers[1]]);
    const left = await db().selectFrom("users").select("email").where("tenant_id", "=", before.id).execute();
    expect(left).toHaveLength(3);
  });

  it("still refuses them in a domain this organisation has only claimed, not proved", async () => {
    const domain = `claimed-${short()}.example`;
    const before = await buildTenant(db(), { domains: [] });
    const claimant = await buildTenant(db(), { domains: [] });
    await db()
      .insertInto("tenant_domains")
      .values({ tenant_id: claimant.id, domain, verification_token: randomUUID() })
      .execute();
    await buildUser(db(), { tenantId: before.id, email: `dee@${domain}` });
    const synced = await applyDirectoryPerson(server.mailward.services, claimant.id, {
      oid: randomUUID(),
      primary: `dee@${domain}`,
      displayName: "Dee",
      aliases: [],
    });
    // Not the claimant's domain yet: the sync gives nobody an address there (its rounds leave such people out).
    expect(synced).toEqual({ kind: "skipped" });
    const accounts = await db()
      .selectFrom("users")
      .select("tenant_id")
      .where("email", "=", `dee@${domain}`)
      .execute();
    expect(accounts).toEqual([{ tenant_id: before.id }]);
  });
});

describe("POST /api/admin/users: an address in a domain no other organisation has verified", () => {
  it("is allowed in the organisation's own pending domain", async () => {
    const pending = `pending-${short()}.example`;
    await db()
      .insertInto("tenant_domains")
      .values({ tenant_id: world.tenantId, domain: pending, verification_token: randomUUID() })
      .execute();
    const address = `someone@${pending}`;
    expect((await invite(tenantAdmin, { email: address })).status).toBe(201);
    expect(await traces(address)).toEqual({ accounts: 1, mail: 1 });
  });

  it("is allowed at a vendor's address another organisation's person already has (a partner's agent)", async () => {
    const vendor = `bpo-vendor-${short()}.test`;
    const agent = `agent@${vendor}`;
    const other = await buildTenant(db());
    await buildUser(db(), { tenantId: other.id, email: agent });
    expect((await invite(tenantAdmin, { email: agent })).status).toBe(201);
    expect((await invite(partnerAdmin, { email: `agent2@${vendor}` })).status).toBe(201);
    expect((await invite(tenantAdmin, { email: `agent3@${vendor}`, entraOid: randomUUID() })).status).toBe(
      201,
    );
    expect(await cliAdd(`agent4@${vendor}`)).toMatchObject({ code: 0 });
    expect(await traces(agent)).toEqual({ accounts: 2, mail: 1 });
    expect((await traces(`agent4@${vendor}`)).accounts).toBe(1);
  });
});

describe("POST /api/admin/users/:id/addresses: another address (alias)", () => {
  it("is held to the organisation's own verified domains", async () => {
    const other = await buildTenant(db());
    const pending = `pending-${short()}.example`;
    await db()
      .insertInto("tenant_domains")
      .values({ tenant_id: world.tenantId, domain: pending, verification_token: randomUUID() })
      .execute();
    const tina = await world.user(["agent"]);
    for (const address of [
      `tina-${short()}@${other.domains[0] ?? ""}`,
      `tina@${pending}`,
      `tina@nobody-${short()}.example`,
    ])
      expect(await addAlias(tina.id, address)).toEqual([400, "invalid_request"]);
  });
});
