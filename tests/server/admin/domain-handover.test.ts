import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { buildTenant, buildUser } from "../../factories";
import { applyDirectoryPerson } from "../../../server/commands/users/directory-person";
import { setUserDisabled } from "../../../server/commands/users/set-user-status";
import { addUserAddress } from "../../../server/commands/users/addresses";
import { inviteUser } from "../../../server/commands/users/invite-user";
import { addOrganisationDomain, removeOrganisationDomain } from "../../../server/commands/tenants/domains";
import { pipelineFor } from "../../../server/mail/pipeline/index";
import { resolveEntraUser } from "../../../server/auth/entra/users";
import { entraSettingsFrom } from "../../../server/auth/entra/settings";
import { testConfig } from "../../support/services";

// A mail domain changes hands: organisation A had people in it (some disabled, with other addresses), removed it, and
// organisation B proved it since. The domain's addresses are B's from then on: A's leftover rows (kept for their
// history and audit) must neither keep B from its addresses nor answer for them (mail, sign-in, password resets).
let server: TestServer;
const PASSWORD = "a long enough passphrase";

const db = () => server.mailward.services.db;
const services = () => server.mailward.services;
const short = () => randomUUID().slice(0, 8);

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
});
afterAll(async () => {
  await server?.stop();
});

/** A's disabled person ann@ (with the alias sales@) in a domain A removed and B then proved (the operator's CLI). */
async function handedOver() {
  const domain = `handover-${short()}.example`;
  const a = await buildTenant(db(), { domains: [domain, `a-${short()}.example`] });
  const aAdmin = await buildUser(db(), {
    tenantId: a.id,
    email: `admin@${a.domains[1]}`,
    roles: ["tenant_admin"],
  });
  const ann = await buildUser(db(), { tenantId: a.id, email: `ann@${domain}`, password: PASSWORD });
  const sales = `sales@${domain}`;
  await addUserAddress(services(), aAdmin.actor, null, ann.id, sales);
  await setUserDisabled(services(), aAdmin.actor, null, ann.id, true);
  await removeOrganisationDomain(services(), aAdmin.actor, null, domain);
  const b = await buildTenant(db());
  const bAdmin = await buildUser(db(), { tenantId: b.id, roles: ["tenant_admin"] });
  await addOrganisationDomain(services(), bAdmin.actor, null, domain, "operator");
  return { domain, a, aAdmin, ann, sales, b, bAdmin };
}

/** The audit actions about a user in an organisation's log, oldest first. */
async function auditedActions(tenantId: string, userId: string): Promise<string[]> {
  const rows = await db()
    .selectFrom("audit_events")
    .select("action")
    .where("tenant_id", "=", tenantId)
    .where("target_id", "=", userId)
    .orderBy("seq")
    .execute();
  return rows.map((row) => row.action);
}

describe("a domain another organisation had, proved by a new one", () => {
  it("gives the new owner's directory sync the people's addresses and their other addresses", async () => {
    const { b, ann, sales } = await handedOver();
    const synced = await applyDirectoryPerson(services(), b.id, {
      oid: randomUUID(),
      primary: ann.email,
      displayName: "Ann",
      aliases: [sales],
    });
    expect(synced).toMatchObject({ kind: "created", aliasesAdded: 1, aliasesTaken: [] });
  });

  it("lets the new owner invite at an old alias", async () => {
    const { bAdmin, sales } = await handedOver();
    const invited = await inviteUser(services(), bAdmin.actor, null, { email: sales, roles: ["agent"] });
    expect(invited.email).toBe(sales);
  });

  it("lets the new owner give an old alias to its person", async () => {
    const { domain, b, bAdmin, sales } = await handedOver();
    const bob = await buildUser(db(), { tenantId: b.id, email: `bob@${domain}` });
    const given = await addUserAddress(services(), bAdmin.actor, null, bob.id, sales);
    expect(given.addresses).toEqual([sales]);
  });

  it("makes the new owner's people just in time at their first Microsoft sign-in, at old addresses too", async () => {
    const { b, ann, sales } = await handedOver();
    const entraTenant = randomUUID();
    await db()
      .updateTable("tenants")
      .set({ entra_tenant_id: entraTenant, settings: JSON.stringify({ entra: { jitUsers: true } }) })
      .where("id", "=", b.id)
      .execute();
    const settings = entraSettingsFrom(testConfig({ MAILWARD_ENTRA_CLIENT_ID: randomUUID() }));
    if (!settings) throw new Error("no Entra settings");
    for (const username of [ann.email, sales]) {
      const identity = { tenantId: entraTenant, oid: randomUUID(), name: null, username, guest: false };
      expect(await resolveEntraUser(services(), identity, settings, null)).toMatchObject({
        tenantId: b.id,
        created: true,
      });
    }
  });

  it("drops the old organisation's other addresses in it, audited in that organisation's log", async () => {
    const { a, ann, sales } = await handedOver();
    const left = await db()
      .selectFrom("user_addresses")
      .select("address")
      .where("user_id", "=", ann.id)
      .execute();
    expect(left).toEqual([]);
    expect(await auditedActions(a.id, ann.id)).toEqual([
      "user.address_added",
      "user.disabled",
      "user.address_removed",
    ]);
    const removed = await db()
      .selectFrom("audit_events")
      .select(["actor_label", "details"])
      .where("tenant_id", "=", a.id)
      .where("target_id", "=", ann.id)
      .where("action", "=", "user.address_removed")
      .executeTakeFirstOrThrow();
    expect(removed).toEqual({
      actor_label: "system:domain-proved-elsewhere",
      details: { email: ann.email, address: sales, reason: "proved_by_another_organisation" },
    });
  });

  it("delivers mail to its addresses to the new owner's people only", async () => {
    const { domain, b, bAdmin, ann, sales } = await handedOver();
    const own = await buildUser(db(), { tenantId: b.id, email: ann.email });
    const sam = await buildUser(db(), { tenantId: b.id, email: `sam@${domain}` });
    await addUserAddress(services(), bAdmin.actor, null, sam.id, sales);
    const found = await pipelineFor(services()).directory.lookupRecipients([ann.email, sales]);
    expect(found).toEqual([
      { kind: "local", tenantId: b.id, userId: own.id, address: ann.email },
      { kind: "local", tenantId: b.id, userId: sam.id, address: sales },
    ]);
  });
});
