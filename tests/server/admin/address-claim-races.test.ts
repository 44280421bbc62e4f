import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organisationDomain } from "../../../shared/schemas/domains";
import { applyDirectoryPerson, type DirectoryPerson } from "../../../server/commands/users/directory-person";
import { applyDirectoryGroups } from "../../../server/commands/users/directory-groups";
import { addressClaimKey, claimAddresses } from "../../../server/commands/users/address-owner";
import { runCli } from "../../support/cli";
import { startTestServer, type TestServer } from "../../support/server";
import { testEngine } from "../../support/db";
import { raceBehindAuditLog, untilWaiting } from "../../support/lock-races";
import type { ApiClient } from "../../support/http";
import { signedInPerson } from "../../support/sign-in";
import { fakeDns } from "../mail/gateway/helpers";
import type { FakeTxtRecord } from "../mail/scan/support/fake-dns";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

// Two writers claiming one address at the same moment: an alias and an invitation, the directory sync and an
// invitation, a domain's proof and an invitation into it. Each asked who held the address (or domain), heard "nobody"
// and went on, so both committed: two owners of one address, whose mail the gateway could not place. The second now
// waits for the first's commit and refuses as it would have a moment later. Each test holds the organisation's audit
// log (its head row, as appendAudit locks it) so the first writer stops just before its commit, sends the second,
// waits until it too waits for a lock (or has answered, as it did before), then lets both go.
// PostgreSQL only: PGlite runs one transaction at a time, so the two cannot overlap there.
let server: TestServer;
let world: AdminWorld;
let tenantAdmin: ApiClient;
/** The public DNS an organisation publishes its domain's proof in (faked: the one outside service these tests may fake). */
const zone: Record<string, FakeTxtRecord[]> = {};

type ApiResponse = Awaited<ReturnType<ApiClient["request"]>>;

const db = () => server.mailward.services.db;
const short = () => randomUUID().slice(0, 8);

beforeAll(async () => {
  if (testEngine() !== "postgres") return;
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" }, { dnsResolver: fakeDns(zone) });
  world = await buildAdminWorld(db(), server.baseUrl);
  tenantAdmin = (await world.login(["tenant_admin"])).client;
});
afterAll(async () => {
  await server?.stop();
});

/** `raceBehindAuditLog` on this file's server. */
const race = <A, B>(tenantId: string, first: () => Promise<A>, second: () => Promise<B>) =>
  raceBehindAuditLog(db(), tenantId, first, second);

/** Everyone an address is: accounts with it as their own address, aliases and groups' addresses, in every organisation. */
async function ownersOf(address: string): Promise<string[]> {
  const people = await db()
    .selectFrom("users")
    .select("id")
    .where(sql`lower(email)`, "=", address)
    .execute();
  const aliases = await db()
    .selectFrom("user_addresses")
    .select("user_id")
    .where("address", "=", address)
    .execute();
  const groups = await db()
    .selectFrom("group_addresses")
    .select("group_oid")
    .where("address", "=", address)
    .execute();
  return [
    ...people.map((p) => `person ${p.id}`),
    ...aliases.map((a) => `alias of ${a.user_id}`),
    ...groups.map((g) => `group ${g.group_oid}`),
  ];
}

const invite = (email: string) => () => tenantAdmin.request("POST", "/api/admin/users", { email });
const addAlias = (userId: string, address: string) => () =>
  tenantAdmin.request("POST", `/api/admin/users/${userId}/addresses`, { address });
const answer = (res: ApiResponse) => [res.status, res.json.error];
const invited = async (email: string) =>
  (await db().selectFrom("users").select("id").where("email", "=", email).executeTakeFirstOrThrow()).id;

/** A person the directory sync made, a new address, and the sync round that gives it to them as an alias. */
async function directoryPersonAndNewAlias() {
  const person: DirectoryPerson = {
    oid: randomUUID(),
    primary: `dir-${short()}@example.com`,
    displayName: "Dora Directory",
    aliases: [],
  };
  const created = await applyDirectoryPerson(server.mailward.services, world.tenantId, person);
  if (created.kind !== "created") throw new Error(`the person was not created: ${created.kind}`);
  const address = `claim-${short()}@example.com`;
  const sync = () =>
    applyDirectoryPerson(server.mailward.services, world.tenantId, { ...person, aliases: [address] });
  return { created, address, sync };
}

describe.runIf(testEngine() === "postgres")("two claims of one address at the same moment", () => {
  it("an alias being added, then an invitation of it: the invitation answers 409 and the address is the alias", async () => {
    const tina = await world.user(["agent"]);
    const address = `claim-${short()}@example.com`;
    const [alias, invitation] = await race(world.tenantId, addAlias(tina.id, address), invite(address));
    expect(answer(alias)).toEqual([200, undefined]);
    expect(answer(invitation)).toEqual([409, "already_exists"]);
    expect(invitation.json.message).toBe(
      `${address} is another address of an existing user: remove it there first.`,
    );
    expect(await ownersOf(address)).toEqual([`alias of ${tina.id}`]);
  });

  it("an invitation being sent, then an alias of its address: the alias answers 409 and the address is the invitee's", async () => {
    const tina = await world.user(["agent"]);
    const address = `claim-${short()}@example.com`;
    const [invitation, alias] = await race(world.tenantId, invite(address), addAlias(tina.id, address));
    expect(answer(invitation)).toEqual([201, undefined]);
    expect(answer(alias)).toEqual([409, "already_exists"]);
    expect(await ownersOf(address)).toEqual([`person ${await invited(address)}`]);
  });

  it("the directory sync giving a person an alias, then an invitation of it: the invitation answers 409", async () => {
    const { created, address, sync } = await directoryPersonAndNewAlias();
    const [synced, invitation] = await race(world.tenantId, sync, invite(address));
    expect(synced).toMatchObject({ kind: "updated", aliasesAdded: 1, aliasesTaken: [] });
    expect(answer(invitation)).toEqual([409, "already_exists"]);
    expect(await ownersOf(address)).toEqual([`alias of ${created.userId}`]);
  });

  it("an invitation being sent, then the directory sync giving its address as an alias: the sync leaves it out", async () => {
    const { address, sync } = await directoryPersonAndNewAlias();
    const [invitation, synced] = await race(world.tenantId, invite(address), sync);
    expect(answer(invitation)).toEqual([201, undefined]);
    expect(synced).toMatchObject({ kind: "unchanged", aliasesAdded: 0, aliasesTaken: [address] });
    expect(await ownersOf(address)).toEqual([`person ${await invited(address)}`]);
  });

  it("the directory sync creating a person, then an invitation of their address: the invitation answers 409, not 500", async () => {
    const address = `dir-${short()}@example.com`;
    const person: DirectoryPerson = {
      oid: randomUUID(),
      primary: address,
      displayName: "Dan New",
      aliases: [],
    };
    const sync = () => applyDirectoryPerson(server.mailward.services, world.tenantId, person);
    const [synced, invitation] = await race(world.tenantId, sync, invite(address));
    expect(synced).toMatchObject({ kind: "created" });
    expect(answer(invitation)).toEqual([409, "already_exists"]);
    expect(invitation.json.message).toBe(`A user ${address} already exists.`);
    expect(await ownersOf(address)).toEqual([`person ${synced.kind === "created" ? synced.userId : ""}`]);
  });

  it("the directory sync giving a group an address, then an invitation of it: the invitation answers 409", async () => {
    const address = `team-${short()}@example.com`;
    const group = { oid: randomUUID(), displayName: "Support desk", addresses: [address] };
    const sync = () => applyDirectoryGroups(server.mailward.services, world.tenantId, [group]);
    const [synced, invitation] = await race(world.tenantId, sync, invite(address));
    expect(synced).toMatchObject({ added: 1, taken: [] });
    expect(answer(invitation)).toEqual([409, "already_exists"]);
    expect(invitation.json.message).toBe(
      `${address} is a group's address (from Entra ID): it cannot also be a person's.`,
    );
    expect(await ownersOf(address)).toEqual([`group ${group.oid}`]);
  });

  it("an alias being added, then the CLI's user add of it: the CLI refuses and the address is the alias", async () => {
    const tina = await world.user(["agent"]);
    const address = `claim-${short()}@example.com`;
    const cli = () => runCli(server.mailward.services, ["user", "add", address]);
    const [alias, added] = await race(world.tenantId, addAlias(tina.id, address), cli);
    expect(answer(alias)).toEqual([200, undefined]);
    expect(added).toEqual({
      code: 1,
      lines: [
        `Error (already_exists): ${address} is another address of an existing user: remove it there first.`,
      ],
    });
    expect(await ownersOf(address)).toEqual([`alias of ${tina.id}`]);
  });

  it("takes a transaction's claims in one order, whatever order they come in, so two claimers never deadlock", async () => {
    const byKey = (x: string, y: string) => (addressClaimKey(x) < addressClaimKey(y) ? -1 : 1);
    const [low = "", high = ""] = [`a-${short()}@example.com`, `b-${short()}@example.com`].sort(byKey);
    let other: Promise<void> | undefined;
    await db()
      .transaction()
      .execute(async (trx) => {
        await claimAddresses(trx, [low]);
        other = db()
          .transaction()
          .execute((second) => claimAddresses(second, [high, low]));
        await untilWaiting(db(), 1);
        // The other waits for `low` holding nothing yet: had it taken `high` first, this would be a deadlock.
        const free = await sql<{ free: boolean }>`
          SELECT pg_try_advisory_xact_lock(${addressClaimKey(high).toString()}::bigint) AS free`.execute(trx);
        expect(free.rows[0]?.free).toBe(true);
      });
    await other;
  });

  it("another organisation proving a domain, then an invitation into it: the invitation answers 409 and makes nobody", async () => {
    const { client: foreignAdmin } = await signedInPerson(db(), server.baseUrl, {
      tenantId: world.foreignTenantId,
      roles: ["tenant_admin"],
      password: "Foreign-admin-passw0rd!",
    });
    const domain = `proved-${short()}.example`;
    const added = await foreignAdmin.request("POST", "/api/admin/domains", { domain });
    expect(added.status).toBe(200);
    const record = organisationDomain.parse(added.json).verificationRecord;
    if (!record) throw new Error(`${domain} was verified without a proof`);
    zone[record.name] = [record.value];
    const address = `desk@${domain}`;
    const [proof, invitation] = await race(
      world.foreignTenantId,
      () => foreignAdmin.request("POST", `/api/admin/domains/${domain}/verify`),
      invite(address),
    );
    expect(answer(proof)).toEqual([200, undefined]);
    expect(organisationDomain.parse(proof.json).status).toBe("verified");
    expect(answer(invitation)).toEqual([409, "address_in_other_organisation_domain"]);
    expect(await ownersOf(address)).toEqual([]);
  });
});
