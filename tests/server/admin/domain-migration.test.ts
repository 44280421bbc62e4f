import { Migrator, sql } from "kysely";
import { describe, expect, it } from "vitest";
import { migrations } from "../../../server/db/migrations/index";
import { migrateToLatest } from "../../../server/db/migrate";
import { emptyDatabase } from "../../support/db";

// Migration 2200: domains that took mail before it keep taking it (verified), and only verified domains are unique.
describe("migration 2200", () => {
  it("counts every existing domain as verified, and lets a second organisation's claim wait beside a verified one only while pending", async () => {
    const empty = await emptyDatabase();
    try {
      const { db } = empty;
      const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
      expect((await migrator.migrateTo("2100_sender_allowances")).error).toBeUndefined();
      const { rows } = await sql<{ id: string }>`
        INSERT INTO tenants (name) VALUES ('Before'), ('Other') RETURNING id`.execute(db);
      const [before, other] = rows.map((row) => row.id);
      await sql`INSERT INTO tenant_domains (tenant_id, domain, created_at)
        VALUES (${before}, 'kept.example', '2026-01-02T03:04:05Z')`.execute(db);

      expect(await migrateToLatest(db)).toContain("2200_domain_verification");
      const kept = await db
        .selectFrom("tenant_domains")
        .select(["verified_at", "verification_token"])
        .where("domain", "=", "kept.example")
        .executeTakeFirstOrThrow();
      expect(kept.verified_at?.toISOString()).toBe("2026-01-02T03:04:05.000Z");
      expect(kept.verification_token).toBeNull();

      // Another organisation may claim it (pending, with a token), but not hold it verified as well.
      await db
        .insertInto("tenant_domains")
        .values({ tenant_id: other!, domain: "kept.example", verified_at: null, verification_token: "t" })
        .execute();
      await expect(
        db
          .updateTable("tenant_domains")
          .set({ verified_at: new Date() })
          .where("tenant_id", "=", other!)
          .execute(),
      ).rejects.toThrow(/tenant_domains_verified_domain/);
      // A row must be verified or carry the token that can verify it.
      await expect(
        db
          .insertInto("tenant_domains")
          .values({ tenant_id: other!, domain: "nothing.example", verified_at: null })
          .execute(),
      ).rejects.toThrow(/tenant_domains_proof/);
    } finally {
      await empty.close();
    }
  });
});
