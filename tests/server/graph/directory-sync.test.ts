import nodemailer from "nodemailer";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../../server/context";
import { graphOf } from "../../../server/graph/runtime";
import { DirectorySync } from "../../../server/graph/directory-sync";
import { GTUBE } from "../../../server/mail/scan/test-strings";
import { pipelineFor } from "../../../server/mail/pipeline/index";
import { startTestServer, type TestServer } from "../../support/server";
import { auditDetailsOf } from "../../support/audit";
import { buildUser } from "../../factories";
import { DIRECTORY_LISTING, isDirectoryListing, startGraphTestKit, type GraphTestKit } from "./kit";
import { defaultTenantId, graphStartOptions, graphTestEnv } from "./harness";

// The directory sync reads Entra's people (GET /users, every page) into accounts and aliases, so the
// gateway takes mail for everyone Microsoft 365 delivers to, at every address, before they sign in.
const ADELE = "adele@contoso.test";
const MEGAN = "megan@contoso.test";
const SUPPORT = "support@contoso.test";
const GRADY = "grady@contoso.test";

let kit: GraphTestKit;
let server: TestServer;
let services: Services;
let tenantId: string;
let meganId: string;
let sync: DirectorySync;

async function userByEmail(email: string) {
  return services.db
    .selectFrom("users")
    .select(["id", "email", "display_name", "entra_oid"])
    .where(sql`lower(email)`, "=", email)
    .executeTakeFirst();
}

async function addressesOf(userId: string): Promise<Array<{ address: string; source: string }>> {
  return services.db
    .selectFrom("user_addresses")
    .select(["address", "source"])
    .where("user_id", "=", userId)
    .orderBy("address")
    .execute();
}

function listingRequests(): number {
  return kit.sent.filter(isDirectoryListing).length;
}

async function sendTo(to: string, body = "Hello."): Promise<void> {
  const transport = nodemailer.createTransport({ host: "127.0.0.1", port: server.smtpPort, ignoreTLS: true });
  try {
    await transport.sendMail({
      envelope: { from: "partner@fabrikam.test", to: [to] },
      raw: `From: partner@fabrikam.test\r\nTo: ${to}\r\nSubject: Order 7\r\nMessage-ID: <${Date.now()}.${Math.random()}@fabrikam.test>\r\n\r\n${body}\r\n`,
    });
  } finally {
    transport.close();
  }
}

beforeAll(async () => {
  kit = await startGraphTestKit({
    // Graph pages server-side: two people a page, whatever $top asked for.
    maxPageSize: 2,
    users: [
      {
        userPrincipalName: ADELE,
        displayName: "Adele Vance",
        proxyAddresses: [
          `SMTP:${ADELE}`,
          "smtp:adele.vance@contoso.test",
          "smtp:adele@contoso.onmicrosoft.com",
          "X500:/o=ExchangeLabs/ou=Exchange Administrative Group/cn=Recipients/cn=adele",
          "smtp:sales@contoso.test",
        ],
      },
      { userPrincipalName: MEGAN, displayName: "Megan Bowen" },
      // A shared mailbox is a user in Entra (with sign-in blocked): its mail is taken like anyone's.
      {
        userPrincipalName: SUPPORT,
        displayName: "Support",
        proxyAddresses: [`SMTP:${SUPPORT}`, "smtp:help@contoso.test"],
      },
      { userPrincipalName: GRADY, displayName: "Grady Archie" },
      // info@ is, in Mailward, another address of Megan's (an admin gave it to her).
      { userPrincipalName: "info@contoso.test", displayName: "Info" },
      // A guest: a user object whose mail is somewhere else.
      {
        userPrincipalName: "lee_fabrikam.test#EXT#@contoso.test",
        mail: "lee@fabrikam.test",
        displayName: "Lee Gu",
      },
    ],
    groups: [
      {
        displayName: "Support Team",
        mail: "team@contoso.test",
        proxyAddresses: [
          "SMTP:team@contoso.test",
          "smtp:support-team@contoso.test",
          "smtp:team@contoso.onmicrosoft.com",
        ],
      },
      // help@ is a person's alias (Support's): it stays theirs.
      {
        displayName: "Help desk",
        mail: "helpdesk@contoso.test",
        proxyAddresses: ["SMTP:helpdesk@contoso.test", "smtp:help@contoso.test"],
      },
      // Not mail-enabled: no address for the gateway.
      { displayName: "Laptop owners", mailEnabled: false },
    ],
  });
  // The setting off, so the server's own sweeps do not sync meanwhile: each test runs a round itself
  // (directory-sync-sweep.test.ts checks that sweeps run it when the setting is on).
  server = await startTestServer(graphTestEnv(kit), graphStartOptions(kit));
  services = server.mailward.services;
  tenantId = await defaultTenantId(services);
  const runtime = graphOf(services);
  if (!runtime) throw new Error("graph runtime not started");
  sync = new DirectorySync(services, runtime.connection);
  // Megan's account was made by hand before the sync; an admin gave her sales@ too.
  meganId = (await buildUser(services.db, { tenantId, email: MEGAN, displayName: "Megan" })).id;
  await services.db
    .insertInto("user_addresses")
    .values([
      { address: "sales@contoso.test", tenant_id: tenantId, user_id: meganId },
      { address: "info@contoso.test", tenant_id: tenantId, user_id: meganId },
    ])
    .execute();
  // grady@ is someone else's already: an account linked to another Entra person.
  const other = await buildUser(services.db, { tenantId, email: GRADY });
  await services.db
    .updateTable("users")
    .set({ entra_oid: "another-person" })
    .where("id", "=", other.id)
    .execute();
});
afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

describe("directory sync", () => {
  it("reads every page, through a 429, into accounts and aliases; guests and others' addresses are left out", async () => {
    // The second page is throttled once: the round waits Retry-After and goes on.
    kit.graph.faults.add({
      status: 429,
      retryAfterSeconds: 1,
      count: 1,
      everyNth: 2,
      match: DIRECTORY_LISTING,
    });
    const before = listingRequests();
    const report = await sync.run();
    expect(listingRequests() - before).toBe(4); // 3 pages of 2, one of them asked twice
    expect(report).toMatchObject({
      listed: 6,
      created: 2,
      linked: 1,
      updated: 0,
      aliasesAdded: 2,
      aliasesRemoved: 0,
      groupAddressesAdded: 3,
      groupAddressesRemoved: 0,
      failedTenants: 0,
    });
    expect(report.conflicts).toEqual(
      expect.arrayContaining([
        { address: GRADY, reason: "address_taken" },
        { address: "sales@contoso.test", reason: "address_taken" },
        // Nobody's account is linked through an address that is someone else's alias.
        { address: "info@contoso.test", reason: "address_is_alias" },
        { address: "help@contoso.test", reason: "address_taken" },
      ]),
    );
    expect(report.conflicts).toHaveLength(4);
    const groupAddresses = await services.db
      .selectFrom("group_addresses")
      .select(["address", "display_name"])
      .orderBy("address")
      .execute();
    expect(groupAddresses).toEqual([
      { address: "helpdesk@contoso.test", display_name: "Help desk" },
      { address: "support-team@contoso.test", display_name: "Support Team" },
      { address: "team@contoso.test", display_name: "Support Team" },
    ]);
    expect(
      await auditDetailsOf(services.db, kit.graph.group("Support Team").id, "group.address_added"),
    ).toEqual([
      { group: "Support Team", address: "support-team@contoso.test", source: "directory_sync" },
      { group: "Support Team", address: "team@contoso.test", source: "directory_sync" },
    ]);

    const adele = await userByEmail(ADELE);
    expect(adele).toMatchObject({ display_name: "Adele Vance", entra_oid: kit.graph.user(ADELE).id });
    // Only addresses in the organisation's domains; X500 is not a mail address; sales@ stays Megan's.
    expect(await addressesOf(adele!.id)).toEqual([
      { address: "adele.vance@contoso.test", source: "directory" },
    ]);
    const roles = await services.db
      .selectFrom("role_assignments")
      .select(["role", "scope"])
      .where("user_id", "=", adele!.id)
      .execute();
    expect(roles).toEqual([{ role: "agent", scope: "own" }]);
    expect(await auditDetailsOf(services.db, adele!.id, "user.created")).toEqual([
      { email: ADELE, roles: ["agent"], oid: kit.graph.user(ADELE).id, source: "directory_sync" },
    ]);

    const support = await userByEmail(SUPPORT);
    expect(await addressesOf(support!.id)).toEqual([{ address: "help@contoso.test", source: "directory" }]);

    // Megan's hand-made account is linked to her Entra id, not duplicated; her admin alias is untouched.
    const megan = await userByEmail(MEGAN);
    expect(megan).toMatchObject({ id: meganId, entra_oid: kit.graph.user(MEGAN).id });
    expect(await auditDetailsOf(services.db, meganId, "user.linked")).toEqual([
      { email: MEGAN, oid: kit.graph.user(MEGAN).id, source: "directory_sync" },
    ]);
    expect(await auditDetailsOf(services.db, meganId, "user.updated")).toEqual([
      { email: MEGAN, displayName: { from: "Megan", to: "Megan Bowen" }, source: "directory_sync" },
    ]);
    expect(await addressesOf(meganId)).toEqual([
      { address: "info@contoso.test", source: "admin" },
      { address: "sales@contoso.test", source: "admin" },
    ]);

    // Nobody takes over grady@, and the guest gets no account.
    expect((await userByEmail(GRADY))?.entra_oid).toBe("another-person");
    // That account's Entra person is not in this directory (anymore): it is disabled, its archive kept.
    expect(report).toMatchObject({ disabled: 1, leaversWithheld: 0 });
    const gradyAccount = await userByEmail(GRADY);
    expect(await auditDetailsOf(services.db, gradyAccount!.id, "user.disabled")).toEqual([
      {
        email: GRADY,
        sessionsEnded: 0,
        smtpPasswordsRevoked: 0,
        passwordLinksRetired: 0,
        reason: "not_in_directory",
        source: "directory_sync",
      },
    ]);
    expect(await userByEmail("lee@fabrikam.test")).toBeUndefined();
  });

  it("lets the gateway take mail at a synced alias, for its owner", async () => {
    await sendTo("adele.vance@contoso.test");
    await sendTo("HELP@contoso.test");
    const adele = await userByEmail(ADELE);
    const support = await userByEmail(SUPPORT);
    const links = await services.db
      .selectFrom("mailbox_links")
      .select(["user_id", "folder"])
      .where("user_id", "in", [adele!.id, support!.id])
      .orderBy("folder")
      .execute();
    expect(links.map((l) => l.user_id).sort()).toEqual([adele!.id, support!.id].sort());
    await expect(sendTo("nobody@contoso.test")).rejects.toMatchObject({ responseCode: 550 });
  });

  it("takes mail to a group's address once, relayed for Microsoft 365 to expand, and files it in its members' mailboxes", async () => {
    kit.graph.addGroupMembers("Support Team", [ADELE]);
    expect(await sync.run()).toMatchObject({ groupMembersAdded: 1 });
    await sendTo("team@contoso.test");
    const queued = await services.db
      .selectFrom("deliveries")
      .select(["recipient", "state"])
      .where("recipient", "=", "team@contoso.test")
      .execute();
    expect(queued).toEqual([{ recipient: "team@contoso.test", state: "queued" }]);
    // The copy Microsoft 365 expands is filed in the member's mailbox in the archive.
    const links = await services.db
      .selectFrom("mailbox_links")
      .innerJoin("users", "users.id", "mailbox_links.user_id")
      .innerJoin("deliveries", "deliveries.message_id", "mailbox_links.message_id")
      .select(["users.email", "mailbox_links.folder"])
      .where("deliveries.recipient", "=", "team@contoso.test")
      .execute();
    expect(links).toEqual([{ email: ADELE, folder: "inbox" }]);
    await sendTo("support-team@contoso.test", GTUBE);
    const held = await services.db
      .selectFrom("held_items")
      .select(["recipient", "user_id", "status"])
      .where("recipient", "=", "support-team@contoso.test")
      .execute();
    expect(held).toEqual([{ recipient: "support-team@contoso.test", user_id: null, status: "held" }]);
  });

  it("changes nothing, and audits nothing, when the directory has not changed", async () => {
    const events = async () =>
      Number(
        (
          await services.db
            .selectFrom("audit_events")
            .select((eb) => eb.fn.countAll<number>().as("n"))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await events();
    const report = await sync.run();
    expect(report).toMatchObject({
      listed: 6,
      created: 0,
      linked: 0,
      updated: 0,
      aliasesAdded: 0,
      aliasesRemoved: 0,
    });
    expect(await events()).toBe(before);
  });

  it("follows a new display name alone", async () => {
    kit.graph.updateUser(SUPPORT, { displayName: "Customer Support" });
    expect(await sync.run()).toMatchObject({ updated: 1, aliasesAdded: 0, aliasesRemoved: 0 });
    expect(await userByEmail(SUPPORT)).toMatchObject({ display_name: "Customer Support" });
  });

  it("follows the directory: a dropped alias goes (an admin's stays), a renamed person keeps their account", async () => {
    kit.graph.updateUser(ADELE, { proxyAddresses: [`SMTP:${ADELE}`] });
    kit.graph.updateUser(MEGAN, {
      displayName: "Megan B. Bowen",
      proxyAddresses: ["SMTP:megan.bowen@contoso.test", `smtp:${MEGAN}`],
    });
    // A rename onto an address that is someone else's is refused; the account stays as it was.
    kit.graph.updateUser(SUPPORT, { proxyAddresses: [`SMTP:${GRADY}`, "smtp:help@contoso.test"] });
    const report = await sync.run();
    expect(report).toMatchObject({ created: 0, linked: 0, updated: 2, aliasesAdded: 1, aliasesRemoved: 1 });
    expect(report.conflicts.filter((c) => c.address === GRADY)).toEqual([
      { address: GRADY, reason: "address_taken" },
      { address: GRADY, reason: "address_taken" },
    ]);
    const support = await userByEmail(SUPPORT);
    expect(await addressesOf(support!.id)).toEqual([{ address: "help@contoso.test", source: "directory" }]);

    const adele = await userByEmail(ADELE);
    expect(await addressesOf(adele!.id)).toEqual([]);
    expect(await auditDetailsOf(services.db, adele!.id, "user.address_removed")).toEqual([
      { email: ADELE, address: "adele.vance@contoso.test", source: "directory_sync" },
    ]);
    await expect(sendTo("adele.vance@contoso.test")).rejects.toMatchObject({ responseCode: 550 });

    expect(await userByEmail("megan.bowen@contoso.test")).toMatchObject({
      id: meganId,
      display_name: "Megan B. Bowen",
    });
    // Her old primary address is now her alias (from the directory); sales@ is still the admin's.
    expect(await addressesOf(meganId)).toEqual([
      { address: "info@contoso.test", source: "admin" },
      { address: MEGAN, source: "directory" },
      { address: "sales@contoso.test", source: "admin" },
    ]);
    expect((await auditDetailsOf(services.db, meganId, "user.updated")).at(-1)).toEqual({
      email: { from: MEGAN, to: "megan.bowen@contoso.test" },
      displayName: { from: "Megan Bowen", to: "Megan B. Bowen" },
      source: "directory_sync",
    });
  });

  it("swaps a person's primary address and alias when the directory does", async () => {
    const supportId = (await userByEmail(SUPPORT))!.id;
    // Even an alias an admin gave stops being one once it is the person's primary address.
    await services.db
      .updateTable("user_addresses")
      .set({ source: "admin" })
      .where("address", "=", "help@contoso.test")
      .execute();
    kit.graph.updateUser(SUPPORT, { proxyAddresses: ["SMTP:help@contoso.test", `smtp:${SUPPORT}`] });
    const report = await sync.run();
    expect(report).toMatchObject({ updated: 1, aliasesAdded: 1 });
    expect(await userByEmail("help@contoso.test")).toMatchObject({ id: supportId });
    expect(await addressesOf(supportId)).toEqual([{ address: SUPPORT, source: "directory" }]);
  });

  it("forgets a group's addresses once the directory has no mail-enabled group for them, at once", async () => {
    // Just confirmed, so the gateway remembers it for a few seconds.
    await sendTo("support-team@contoso.test");
    const team = kit.graph.group("Support Team");
    team.proxyAddresses = ["SMTP:team@contoso.test"];
    team.displayName = "Customer Team";
    const report = await sync.run();
    expect(report).toMatchObject({ groupAddressesAdded: 0, groupAddressesRemoved: 1 });
    expect(await auditDetailsOf(services.db, team.id, "group.renamed")).toEqual([
      {
        group: "Customer Team",
        address: "team@contoso.test",
        before: "Support Team",
        source: "directory_sync",
      },
    ]);
    await expect(sendTo("support-team@contoso.test")).rejects.toMatchObject({ responseCode: 550 });
    team.mailEnabled = false;
    expect(await sync.run()).toMatchObject({ groupAddressesRemoved: 1 });
    expect(await auditDetailsOf(services.db, team.id, "group.address_removed")).toEqual([
      { group: "Support Team", address: "support-team@contoso.test", source: "directory_sync" },
      { group: "Customer Team", address: "team@contoso.test", source: "directory_sync" },
    ]);
    await expect(sendTo("team@contoso.test")).rejects.toMatchObject({ responseCode: 550 });
  });

  it("disables the account of someone who left the directory: no sessions, no SMTP passwords, no aliases", async () => {
    const support = await userByEmail("help@contoso.test");
    await services.db
      .insertInto("smtp_passwords")
      .values({ tenant_id: tenantId, user_id: support!.id, label: "Scanner", secret_hash: "x" })
      .execute();
    await sendTo(SUPPORT); // its alias, just confirmed
    // An alias an admin gave stays in the table, but takes no mail while its owner is gone.
    await services.db
      .insertInto("user_addresses")
      .values({ address: "desk@contoso.test", tenant_id: tenantId, user_id: support!.id })
      .execute();
    kit.graph.removeUser(SUPPORT);
    const report = await sync.run();
    expect(report).toMatchObject({ disabled: 1, leaversWithheld: 0, aliasesRemoved: 1 });
    const row = await services.db
      .selectFrom("users")
      .select("disabled_at")
      .where("id", "=", support!.id)
      .executeTakeFirstOrThrow();
    expect(row.disabled_at).not.toBeNull();
    expect((await auditDetailsOf(services.db, support!.id, "user.disabled")).at(-1)).toMatchObject({
      smtpPasswordsRevoked: 1,
      reason: "not_in_directory",
    });
    // The directory's aliases go; the admin's stays (and takes no mail, below).
    expect(await addressesOf(support!.id)).toEqual([{ address: "desk@contoso.test", source: "admin" }]);
    await expect(sendTo(SUPPORT)).rejects.toMatchObject({ responseCode: 550 });
    // Their mailbox is gone from Microsoft 365 too: mail to their primary address is refused here, not bounced later.
    await expect(sendTo("help@contoso.test")).rejects.toMatchObject({ responseCode: 550 });
    await expect(sendTo("desk@contoso.test")).rejects.toMatchObject({ responseCode: 550 });
  });

  it("takes a restored person's mail again, and leaves their account disabled for an admin to enable", async () => {
    const support = await userByEmail("help@contoso.test");
    kit.graph.addUser({
      id: support!.entra_oid!,
      userPrincipalName: SUPPORT,
      displayName: "Customer Support",
      // As the account is now: the same address and name, no alias from the directory.
      proxyAddresses: ["SMTP:help@contoso.test"],
    });
    expect(await sync.run()).toMatchObject({ updated: 1, aliasesAdded: 0 });
    expect(await auditDetailsOf(services.db, support!.id, "user.returned_to_directory")).toEqual([
      { email: "help@contoso.test", source: "directory_sync" },
    ]);
    await sendTo("help@contoso.test");
    await sendTo("desk@contoso.test");
    const row = await services.db
      .selectFrom("users")
      .select(["disabled_at", "left_directory_at"])
      .where("id", "=", support!.id)
      .executeTakeFirstOrThrow();
    expect(row.left_directory_at).toBeNull();
    expect(row.disabled_at).not.toBeNull();
  });

  it("marks an account an admin disabled as left once its person leaves: its mail is refused at once", async () => {
    kit.graph.addUser({ userPrincipalName: "parked@contoso.test", displayName: "Parked" });
    expect(await sync.run()).toMatchObject({ created: 1 });
    // Disabled by an admin, its mailbox still exists: mail is taken (and now in the gateway's recipient memory).
    await services.db
      .updateTable("users")
      .set({ disabled_at: new Date() })
      .where("email", "=", "parked@contoso.test")
      .execute();
    await sendTo("parked@contoso.test");
    kit.graph.removeUser("parked@contoso.test");
    expect(await sync.run()).toMatchObject({ disabled: 0, markedLeft: 1, leaversWithheld: 0 });
    await expect(sendTo("parked@contoso.test")).rejects.toMatchObject({ responseCode: 550 });
  });

  it("disables nobody when more people are missing at once than a wave of leavers would be", async () => {
    const temps = Array.from({ length: 7 }, (_, n) => `temp${n}@contoso.test`);
    const ids = temps.map((upn) => kit.graph.addUser({ userPrincipalName: upn }).id);
    expect(await sync.run()).toMatchObject({ created: 7 });
    for (const upn of temps) kit.graph.removeUser(upn);
    const report = await sync.run();
    expect(report).toMatchObject({ disabled: 0, leaversWithheld: 7 });
    const disabled = await services.db
      .selectFrom("users")
      .select("email")
      .where("email", "in", temps)
      .where("disabled_at", "is not", null)
      .execute();
    expect(disabled).toEqual([]);
    // The listing was at fault: once they are back, the next round finds everyone as they were.
    temps.forEach((upn, n) => kit.graph.addUser({ id: ids[n], userPrincipalName: upn }));
    expect(await sync.run()).toMatchObject({ created: 0, linked: 0, disabled: 0, leaversWithheld: 0 });
  });

  it("keeps the organisation's last tenant admin enabled, even when they left the directory", async () => {
    const megan = kit.graph.user(MEGAN);
    await services.db
      .insertInto("role_assignments")
      .values({
        tenant_id: tenantId,
        user_id: meganId,
        role: "tenant_admin",
        scope: "tenant",
        scope_id: null,
      })
      .execute();
    const others = await services.db
      .selectFrom("role_assignments")
      .select("user_id")
      .where("role", "=", "tenant_admin")
      .where("user_id", "!=", meganId)
      .execute();
    const otherIds = others.map((o) => o.user_id);
    await services.db
      .updateTable("users")
      .set({ disabled_at: new Date() })
      .where("id", "in", otherIds)
      .execute();
    try {
      kit.graph.removeUser(megan.id);
      expect(await sync.run()).toMatchObject({ disabled: 0, leaversWithheld: 1 });
      const row = await services.db
        .selectFrom("users")
        .select("disabled_at")
        .where("id", "=", meganId)
        .executeTakeFirstOrThrow();
      expect(row.disabled_at).toBeNull();
    } finally {
      await services.db.updateTable("users").set({ disabled_at: null }).where("id", "in", otherIds).execute();
      kit.graph.addUser({
        id: megan.id,
        userPrincipalName: MEGAN,
        displayName: "Megan B. Bowen",
        proxyAddresses: ["SMTP:megan.bowen@contoso.test", `smtp:${MEGAN}`],
      });
    }
  });

  it("keeps a person to 50 other addresses, and counts a newcomer in the impersonation check at once", async () => {
    const many = Array.from({ length: 55 }, (_, n) => `smtp:many.${n}@contoso.test`);
    kit.graph.addUser({
      userPrincipalName: "many@contoso.test",
      proxyAddresses: ["SMTP:many@contoso.test", ...many],
    });
    // The gateway has the organisation's people cached now (for 30 s).
    const people = async () =>
      (await pipelineFor(services).directory.profile(tenantId)).context.people.map((p) => p.email);
    expect(await people()).not.toContain("many@contoso.test");
    const report = await sync.run();
    expect(report).toMatchObject({ created: 1, aliasesAdded: 50 });
    const user = await userByEmail("many@contoso.test");
    expect(await addressesOf(user!.id)).toHaveLength(50);
    expect(await people()).toContain("many@contoso.test");
  });

  it("reports a listing Graph refuses, and keeps every account as it was", async () => {
    kit.graph.faults.add({
      status: 403,
      code: "Authorization_RequestDenied",
      count: 1,
      match: DIRECTORY_LISTING,
    });
    const report = await sync.run();
    expect(report).toMatchObject({ listed: 0, failedTenants: 1, created: 0, aliasesRemoved: 0 });
    expect(await userByEmail(ADELE)).toBeDefined();
  });
});

describe("directory sync without GroupMember.Read.All", () => {
  it("still syncs people, and leaves the group addresses it has as they are", async () => {
    const groupRows = () =>
      services.db.selectFrom("group_addresses").select("address").orderBy("address").execute();
    const before = await groupRows();
    kit.graph.faults.add({
      status: 403,
      code: "Authorization_RequestDenied",
      count: 1,
      match: { method: "GET", path: /^\/groups$/ },
    });
    kit.graph.addUser({ userPrincipalName: "patti@contoso.test", displayName: "Patti Fernandez" });
    const report = await sync.run();
    expect(report).toMatchObject({ failedTenants: 1, created: 1, groupAddressesRemoved: 0 });
    expect(await userByEmail("patti@contoso.test")).toMatchObject({ display_name: "Patti Fernandez" });
    expect(await groupRows()).toEqual(before);
  });
});
