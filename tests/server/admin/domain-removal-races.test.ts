import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { testEngine } from "../../support/db";
import { raceBehindAuditLog } from "../../support/lock-races";
import type { ApiClient } from "../../support/http";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

// A domain removed while an alias in it is being given. The removal counts the domain's people and aliases and
// deletes it when none is left; the alias had read the domain as the organisation's a moment before, so both
// committed: an alias in a domain the organisation no longer has, whose mail the gateway refuses as a relay attempt
// and which another organisation could then prove and find taken. Each now waits for the other: the alias first
// keeps the domain (domain_in_use), the removal first refuses the alias. PostgreSQL only: PGlite runs one
// transaction at a time, so the two cannot overlap there.
let server: TestServer;
let world: AdminWorld;
let tenantAdmin: ApiClient;

beforeAll(async () => {
  if (testEngine() !== "postgres") return;
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
  world = await buildAdminWorld(server.mailward.services.db, server.baseUrl);
  tenantAdmin = (await world.login(["tenant_admin"])).client;
});
afterAll(async () => {
  await server?.stop();
});

const db = () => server.mailward.services.db;

/** A verified domain of the organisation with nobody in it yet. */
async function emptyDomain(): Promise<string> {
  const domain = `d${randomUUID().slice(0, 8)}.example`;
  await db()
    .insertInto("tenant_domains")
    .values({ tenant_id: world.tenantId, domain, verified_at: new Date() })
    .execute();
  return domain;
}

const addAlias = (userId: string, address: string) => () =>
  tenantAdmin.request("POST", `/api/admin/users/${userId}/addresses`, { address });
const removeDomain = (domain: string) => () => tenantAdmin.request("DELETE", `/api/admin/domains/${domain}`);

async function state(domain: string, address: string) {
  const kept = await db()
    .selectFrom("tenant_domains")
    .select("domain")
    .where("domain", "=", domain)
    .executeTakeFirst();
  const alias = await db()
    .selectFrom("user_addresses")
    .select("address")
    .where("address", "=", address)
    .executeTakeFirst();
  return { domainKept: kept !== undefined, aliasGiven: alias !== undefined };
}

describe.runIf(testEngine() === "postgres")("removing a domain while an alias in it is being given", () => {
  it("an alias being given, then the domain's removal: the removal answers 409 domain_in_use and the domain stays", async () => {
    const domain = await emptyDomain();
    const person = await world.user(["agent"]);
    const address = `tina@${domain}`;
    const [alias, removal] = await raceBehindAuditLog(
      db(),
      world.tenantId,
      addAlias(person.id, address),
      removeDomain(domain),
    );
    expect([alias.status, removal.status, removal.json.error]).toEqual([200, 409, "domain_in_use"]);
    expect(await state(domain, address)).toEqual({ domainKept: true, aliasGiven: true });
  });

  it("the domain's removal, then an alias in it: the alias answers 400 and the domain is gone", async () => {
    const domain = await emptyDomain();
    const person = await world.user(["agent"]);
    const address = `tina@${domain}`;
    const [removal, alias] = await raceBehindAuditLog(
      db(),
      world.tenantId,
      removeDomain(domain),
      addAlias(person.id, address),
    );
    expect([removal.status, alias.status, alias.json.error]).toEqual([204, 400, "invalid_request"]);
    expect(await state(domain, address)).toEqual({ domainKept: false, aliasGiven: false });
  });
});
