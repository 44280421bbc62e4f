import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { testEngine } from "../../support/db";
import { raceBehindAuditLog } from "../../support/lock-races";
import { ApiClient } from "../../support/http";
import { startEntraFake, type EntraFake } from "../../fakes/entra";
import { entraEnv } from "../auth/entra-env";
import { buildAdminWorld, type AdminWorld } from "./admin-world";
import { applyDirectoryPerson } from "../../../server/commands/users/directory-person";
import { applyDirectoryGroups } from "../../../server/commands/users/directory-groups";

// A domain removed while an alias in it is being given, while someone signs in with Microsoft for the first time with
// an address in it (their account made just in time), or while the directory sync gives a person or a group an
// address in it (it read the organisation's domains when its round began). The removal counts the domain's people and aliases and
// deletes it when none is left; the alias had read the domain as the organisation's a moment before, so both
// committed: an alias in a domain the organisation no longer has, whose mail the gateway refuses as a relay attempt
// and which another organisation could then prove and find taken. Each now waits for the other: the alias first
// keeps the domain (domain_in_use), the removal first refuses the alias. PostgreSQL only: PGlite runs one
// transaction at a time, so the two cannot overlap there.
let entra: EntraFake;
let server: TestServer;
let world: AdminWorld;
let tenantAdmin: ApiClient;

beforeAll(async () => {
  if (testEngine() !== "postgres") return;
  entra = await startEntraFake();
  // The directory's tenant is the organisation's (MAILWARD_ENTRA_TENANT_ID), which makes accounts just in time.
  server = await startTestServer(entraEnv(entra, { MAILWARD_LOGIN_RATE_LIMIT: "1000" }));
  world = await buildAdminWorld(server.mailward.services.db, server.baseUrl);
  tenantAdmin = (await world.login(["tenant_admin"])).client;
});
afterAll(async () => {
  await server?.stop();
  await entra?.close();
});

const db = () => server.mailward.services.db;
/** `raceBehindAuditLog` in this file's organisation. */
const race = <A, B>(first: () => Promise<A>, second: () => Promise<B>) =>
  raceBehindAuditLog(db(), world.tenantId, first, second);

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

/** A first sign-in with Microsoft as a new member of the directory whose sign-in name is `address`. */
const signInFirstTime = (address: string) => async () => {
  const client = new ApiClient(server.baseUrl);
  client.bearer = await entra.mintAccessToken({
    oid: randomUUID(),
    preferred_username: address,
    name: "New Person",
  });
  return client.request("GET", "/api/me");
};

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
    const [alias, removal] = await race(addAlias(person.id, address), removeDomain(domain));
    expect([alias.status, removal.status, removal.json.error]).toEqual([200, 409, "domain_in_use"]);
    expect(await state(domain, address)).toEqual({ domainKept: true, aliasGiven: true });
  });

  it("the domain's removal, then an alias in it: the alias answers 400 and the domain is gone", async () => {
    const domain = await emptyDomain();
    const person = await world.user(["agent"]);
    const address = `tina@${domain}`;
    const [removal, alias] = await race(removeDomain(domain), addAlias(person.id, address));
    expect([removal.status, alias.status, alias.json.error]).toEqual([204, 400, "invalid_request"]);
    expect(await state(domain, address)).toEqual({ domainKept: false, aliasGiven: false });
  });

  it("a first sign-in with Microsoft at an address in it, then its removal: the removal answers 409, the account stays", async () => {
    const domain = await emptyDomain();
    const address = `newbie@${domain}`;
    const [signIn, removal] = await race(signInFirstTime(address), removeDomain(domain));
    expect([signIn.status, signIn.json.email, removal.status, removal.json.error]).toEqual([
      200,
      address,
      409,
      "domain_in_use",
    ]);
    expect((await state(domain, address)).domainKept).toBe(true);
  });

  it("the domain's removal, then a first sign-in at an address in it: no account, and the person is told why", async () => {
    const domain = await emptyDomain();
    const address = `newbie@${domain}`;
    const [removal, signIn] = await race(removeDomain(domain), signInFirstTime(address));
    expect([removal.status, signIn.status, signIn.json.error]).toEqual([204, 403, "account_not_provisioned"]);
    expect(signIn.json.message).toContain("not an address in your organisation's mail domains");
    const account = await db()
      .selectFrom("users")
      .select("id")
      .where("email", "=", address)
      .executeTakeFirst();
    expect(account).toBeUndefined();
  });

  it("the directory sync giving a person and a group addresses in it, then its removal: the removal answers 409", async () => {
    const domain = await emptyDomain();
    const address = `dir-${randomUUID().slice(0, 8)}@${domain}`;
    const person = { oid: randomUUID(), primary: address, displayName: "Dan New", aliases: [] };
    const [synced, removal] = await race(
      () => applyDirectoryPerson(server.mailward.services, world.tenantId, person),
      removeDomain(domain),
    );
    expect([synced.kind, removal.status, removal.json.error]).toEqual(["created", 409, "domain_in_use"]);

    const other = await emptyDomain();
    const group = { oid: randomUUID(), displayName: "Support desk", addresses: [`desk@${other}`] };
    const [grouped, groupRemoval] = await race(
      () => applyDirectoryGroups(server.mailward.services, world.tenantId, [group]),
      removeDomain(other),
    );
    expect([grouped.added, groupRemoval.status, groupRemoval.json.error]).toEqual([1, 409, "domain_in_use"]);
  });

  it("the domain's removal, then the directory sync giving addresses in it: the sync leaves them out", async () => {
    const domain = await emptyDomain();
    const kept = await emptyDomain();
    const address = `dir-${randomUUID().slice(0, 8)}@${domain}`;
    const person = { oid: randomUUID(), primary: address, displayName: "Dan New", aliases: [] };
    const [removal, synced] = await race(removeDomain(domain), () =>
      applyDirectoryPerson(server.mailward.services, world.tenantId, person),
    );
    expect([removal.status, synced.kind]).toEqual([204, "skipped"]);
    expect(await db().selectFrom("users").select("id").where("email", "=", address).executeTakeFirst()).toBe(
      undefined,
    );

    // A person in a domain still the organisation's keeps it, without the alias in the removed one.
    const other = await emptyDomain();
    const stays = `stays-${randomUUID().slice(0, 8)}@${kept}`;
    const alias = `alias@${other}`;
    const group = { oid: randomUUID(), displayName: "Support desk", addresses: [`desk@${other}`] };
    const [groupRemoval, results] = await race(removeDomain(other), () =>
      Promise.all([
        applyDirectoryPerson(server.mailward.services, world.tenantId, {
          oid: randomUUID(),
          primary: stays,
          displayName: "Stays",
          aliases: [alias],
        }),
        applyDirectoryGroups(server.mailward.services, world.tenantId, [group]),
      ]),
    );
    expect(groupRemoval.status).toBe(204);
    expect(results[0]).toMatchObject({ kind: "created", aliasesAdded: 0 });
    expect(results[1]).toMatchObject({ added: 0 });
    expect(await state(other, alias)).toEqual({ domainKept: false, aliasGiven: false });
    expect(
      await db().selectFrom("group_addresses").select("address").where("group_oid", "=", group.oid).execute(),
    ).toEqual([]);
  });
});
