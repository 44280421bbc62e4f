import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { buildTenant, buildUser } from "../../factories";
import { legalHoldSql } from "../../../server/archive/retention";
import { fileFor, mimeMessage } from "./helpers";

// A custodian hold keeps what is filed for the custodian and what names their address. Addresses on the
// message come from mailparser, which decodes punycode domains; the custodian's own is stored in punycode.
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.destroy();
});

/** Places a custodian hold on `custodianId` and answers the tenant's messages it keeps, with their To addresses. */
async function heldForCustodian(tenantId: string, custodianId: string) {
  const db = database.handle.db;
  await db
    .insertInto("legal_holds")
    .values({ tenant_id: tenantId, kind: "custodian", name: "Custodian", custodian_user_id: custodianId })
    .execute();
  const where = await legalHoldSql(db, tenantId);
  return db
    .selectFrom("messages as m")
    .select(["m.id", "m.to_addresses"])
    .where("m.tenant_id", "=", tenantId)
    .where(() => where)
    .execute();
}

describe("custodian holds by address", () => {
  it("holds mail naming a custodian at an internationalised domain, filed only for someone else", async () => {
    const db = database.handle.db;
    const tenant = await buildTenant(db, { domains: ["xn--bcher-kva.example"] });
    const anna = await buildUser(db, { tenantId: tenant.id, email: "anna@xn--bcher-kva.example" });
    const agent = await buildUser(db, { tenantId: tenant.id, email: "agent@xn--bcher-kva.example" });
    const file = (to: string) =>
      fileFor(db, tenant.id, mimeMessage({ to, subject: "Stock", text: "count" }), [agent]);
    const toAnna = await file("Anna <anna@xn--bcher-kva.example>");
    const toAnnaInUnicode = await file("anna@Bücher.example");
    const toSomeoneElse = await file("otto@xn--bcher-kva.example");
    const held = await heldForCustodian(tenant.id, anna.id);
    expect(held.map((m) => m.id).sort()).toEqual([toAnna.id, toAnnaInUnicode.id].sort());
    expect(held.map((m) => m.id)).not.toContain(toSomeoneElse.id);
  });

  it("holds mail that names the custodian inside a group (RFC 5322 `Team: a@x, b@y;`) in To or Cc", async () => {
    const db = database.handle.db;
    const tenant = await buildTenant(db, { domains: ["legal-group.example"] });
    const carol = await buildUser(db, { tenantId: tenant.id, email: "carol@legal-group.example" });
    const agent = await buildUser(db, { tenantId: tenant.id, email: "agent@legal-group.example" });
    // mailparser hands a group over as { name, group: [members] } with no address of its own.
    const inGroup = await fileFor(
      db,
      tenant.id,
      mimeMessage({
        to: "Board: Carol <carol@legal-group.example>, dave@legal-group.example;",
        subject: "Minutes",
        text: "attached",
      }),
      [agent],
    );
    const held = await heldForCustodian(tenant.id, carol.id);
    expect(held.map((m) => m.id)).toEqual([inGroup.id]);
    expect(held[0]?.to_addresses).toEqual(["carol@legal-group.example", "dave@legal-group.example"]);
  });

  it("holds mail that names the custodian by an alias, sent or received, filed only for someone else", async () => {
    const db = database.handle.db;
    const tenant = await buildTenant(db, { domains: ["legal-alias.example"] });
    const cfo = await buildUser(db, { tenantId: tenant.id, email: "cfo@legal-alias.example" });
    const agent = await buildUser(db, { tenantId: tenant.id, email: "agent@legal-alias.example" });
    await db
      .insertInto("user_addresses")
      .values({ address: "finance@legal-alias.example", tenant_id: tenant.id, user_id: cfo.id })
      .execute();
    const file = (from: string, to: string) =>
      fileFor(db, tenant.id, mimeMessage({ from, to, subject: "Q3", text: "numbers" }), [agent]);
    const fromAlias = await file("finance@legal-alias.example", "partner@outside.example");
    const toAlias = await file("partner@outside.example", "Finance <finance@legal-alias.example>");
    const fromPrimary = await file("cfo@legal-alias.example", "partner@outside.example");
    const unrelated = await file("partner@outside.example", "sales@legal-alias.example");
    const held = await heldForCustodian(tenant.id, cfo.id);
    expect(held.map((m) => m.id).sort()).toEqual([fromAlias.id, toAlias.id, fromPrimary.id].sort());
    expect(held.map((m) => m.id)).not.toContain(unrelated.id);
  });
});
