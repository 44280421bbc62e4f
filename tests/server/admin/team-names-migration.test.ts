import { Migrator, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { migrations } from "../../../server/db/migrations/index";
import { migrateToLatest } from "../../../server/db/migrate";
import { emptyDatabase } from "../../support/db";

// Migration 3200: team and partner group names are unique per organisation whatever their case.
describe("migration 3200", () => {
  it("tells apart names that clash only by case, then refuses such a name", async () => {
    const empty = await emptyDatabase();
    try {
      const { db } = empty;
      const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
      expect((await migrator.migrateTo("3100_held_rule")).error).toBeUndefined();
      const { rows } = await sql<{ id: string }>`
        INSERT INTO tenants (name) VALUES ('One'), ('Two') RETURNING id`.execute(db);
      const [one, two] = rows.map((row) => row.id);
      await sql`INSERT INTO teams (tenant_id, name) VALUES
        (${one}, 'Billing'), (${one}, 'billing'), (${one}, 'BILLING'), (${one}, 'Support'), (${two}, 'billing')`.execute(
        db,
      );
      await sql`INSERT INTO partners (tenant_id, name) VALUES (${one}, 'Acme'), (${one}, 'ACME'), (${two}, 'acme')`.execute(
        db,
      );

      expect(await migrateToLatest(db)).toContain("3200_team_partner_names");
      const teams = await db
        .selectFrom("teams")
        .select(["id", "name"])
        .where("tenant_id", "=", one!)
        .where((eb) => eb(eb.fn("lower", ["name"]), "like", "billing%"))
        .orderBy("id")
        .execute();
      // The first by id keeps its name; the others carry the start of their id.
      expect(teams.map((t) => t.name.toLowerCase())).toEqual([
        "billing",
        `billing #${teams[1]!.id.slice(0, 8)}`,
        `billing #${teams[2]!.id.slice(0, 8)}`,
      ]);
      const untouched = await db.selectFrom("teams").select("name").where("tenant_id", "=", two!).execute();
      expect(untouched).toEqual([{ name: "billing" }]);
      const partners = await db
        .selectFrom("partners")
        .select("name")
        .where("tenant_id", "=", one!)
        .orderBy("id")
        .execute();
      expect(partners[0]!.name.toLowerCase()).toBe("acme");
      expect(partners[1]!.name).toMatch(/^(Acme|ACME) #[0-9a-f]{8}$/);

      await expect(
        db.insertInto("teams").values({ tenant_id: one!, name: "SUPPORT" }).execute(),
      ).rejects.toThrow(/teams_tenant_name_ci/);
      await expect(
        db.insertInto("partners").values({ tenant_id: two!, name: "Acme" }).execute(),
      ).rejects.toThrow(/partners_tenant_name_ci/);
    } finally {
      await empty.close();
    }
  });
});
