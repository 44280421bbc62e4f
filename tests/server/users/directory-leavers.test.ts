import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { testServices } from "../../support/services";
import { buildTenant, buildUser } from "../../factories";
import { disableDirectoryLeavers } from "../../../server/commands/users/directory-leavers";
import type { Services } from "../../../server/context";

// Who the directory sync marks as gone, when a complete listing no longer has them (command level, no Graph).
let database: TestDatabase;
let services: Services;
let tenantId: string;

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
  tenantId = (await buildTenant(services.db, { domains: ["leavers.test"] })).id;
});
afterAll(async () => {
  await database?.destroy();
});

async function linkedUser(email: string, oid: string, disabled: boolean): Promise<string> {
  const user = await buildUser(services.db, { tenantId, email });
  await services.db
    .updateTable("users")
    .set({ entra_oid: oid, disabled_at: disabled ? new Date("2026-11-01T00:00:00Z") : null })
    .where("id", "=", user.id)
    .execute();
  await services.db
    .insertInto("user_addresses")
    .values({ address: `alias-${email}`, tenant_id: tenantId, user_id: user.id, source: "directory" })
    .execute();
  return user.id;
}

const stateOf = (id: string) =>
  services.db
    .selectFrom("users")
    .select(["disabled_at", "left_directory_at", "disabled_by_partner_admin"])
    .where("id", "=", id)
    .executeTakeFirstOrThrow();

const auditOf = (id: string, action: string) =>
  services.db
    .selectFrom("audit_events")
    .select("details")
    .where("target_id", "=", id)
    .where("action", "=", action)
    .execute();

describe("disableDirectoryLeavers", () => {
  it("marks an account an admin disabled before its person left as left too, so its mail is refused", async () => {
    const staying = await linkedUser("stay@leavers.test", "oid-stay", false);
    const disabledEarlier = await linkedUser("gone-before@leavers.test", "oid-gone-before", true);
    // Disabled by a partner admin: once its person has left, no longer a partner admin's to enable again.
    await services.db
      .updateTable("users")
      .set({ disabled_by_partner_admin: true })
      .where("id", "=", disabledEarlier)
      .execute();
    const outcome = await disableDirectoryLeavers(services, tenantId, new Set(["oid-stay"]));
    expect(outcome).toEqual({ disabled: 0, markedLeft: 1, withheld: 0, aliasesRemoved: 1 });
    const row = await stateOf(disabledEarlier);
    expect(row.left_directory_at).not.toBeNull();
    expect(row.disabled_by_partner_admin).toBe(false);
    // Still disabled as the admin left it (the date did not move).
    expect(row.disabled_at).toEqual(new Date("2026-11-01T00:00:00Z"));
    expect(await auditOf(disabledEarlier, "user.left_directory")).toEqual([
      {
        details: { email: "gone-before@leavers.test", reason: "not_in_directory", source: "directory_sync" },
      },
    ]);
    expect(await auditOf(disabledEarlier, "user.disabled")).toEqual([]);
    const aliases = await services.db
      .selectFrom("user_addresses")
      .select("address")
      .where("user_id", "=", disabledEarlier)
      .execute();
    expect(aliases).toEqual([]);
    expect((await stateOf(staying)).left_directory_at).toBeNull();
  });

  it("marks nobody twice: a second pass over the same listing changes and audits nothing", async () => {
    const outcome = await disableDirectoryLeavers(services, tenantId, new Set(["oid-stay"]));
    expect(outcome).toEqual({ disabled: 0, markedLeft: 0, withheld: 0, aliasesRemoved: 0 });
  });

  it("counts disabled accounts against the threshold: a listing missing too many marks nobody", async () => {
    const disabled: string[] = [];
    for (let i = 0; i < 6; i += 1)
      disabled.push(await linkedUser(`old-${i}@leavers.test`, `oid-old-${i}`, true));
    const outcome = await disableDirectoryLeavers(services, tenantId, new Set(["oid-stay"]));
    expect(outcome).toMatchObject({ markedLeft: 0, withheld: 6 });
    for (const id of disabled) expect((await stateOf(id)).left_directory_at).toBeNull();
  });
});
