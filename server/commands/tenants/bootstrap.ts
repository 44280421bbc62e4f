import { randomBytes } from "node:crypto";
import { sql, type Kysely } from "kysely";
import type { Database } from "../../db/schema";
import { appendAudit } from "../../audit/log";
import { hashPassword } from "../../auth/passwords";
import { verifiedDomains } from "../../db/verified-domains";

/** What first start needs: the default tenant's name and domains, and the first admin. */
export interface BootstrapInput {
  tenantName: string;
  domains: string[];
  adminEmail?: string;
  adminPassword?: string;
}

/** What first start did, for the start-up log (a generated password is printed once). */
export interface BootstrapResult {
  tenantId: string;
  createdTenant: boolean;
  addedDomains: string[];
  /**
   * Configured domains the existing default tenant does not take mail for, on a later start: MAILWARD_TENANT_DOMAINS
   * is read on the first start only (a domain IT removed since must not come back with the next restart).
   */
  unappliedDomains: string[];
  /** Whether the tenant takes mail for at least one domain (a verified one): without one the gateway refuses every recipient. */
  takesMail: boolean;
  admin: { email: string; generatedPassword: string | null } | null;
}

/**
 * Creates the default tenant, its domains and the first tenant admin on first
 * start. Idempotent: an existing tenant or admin is left as it is, and says which configured domains it does not take.
 */
export async function bootstrapTenant(db: Kysely<Database>, input: BootstrapInput): Promise<BootstrapResult> {
  return db.transaction().execute(async (trx) => {
    let tenant = await trx.selectFrom("tenants").select("id").orderBy("created_at").executeTakeFirst();
    const createdTenant = !tenant;
    if (!tenant)
      tenant = await trx
        .insertInto("tenants")
        .values({ name: input.tenantName })
        .returning("id")
        .executeTakeFirstOrThrow();
    const tenantId = tenant.id;
    const addedDomains: string[] = [];
    if (createdTenant) {
      for (const domain of input.domains) {
        const row = await trx
          .insertInto("tenant_domains")
          // The operator's own domains (configuration, first start): vouched for, no DNS proof asked.
          .values({ tenant_id: tenantId, domain, verified_at: sql`now()` })
          .onConflict((oc) => oc.column("domain").where("verified_at", "is not", null).doNothing())
          .returning("domain")
          .executeTakeFirst();
        if (row) addedDomains.push(row.domain);
      }
    }
    const taken = new Set(
      (await verifiedDomains(trx).select("domain").where("tenant_id", "=", tenantId).execute()).map(
        (r) => r.domain,
      ),
    );
    const unappliedDomains = createdTenant ? [] : input.domains.filter((domain) => !taken.has(domain));
    const existingAdmin = await trx
      .selectFrom("role_assignments")
      .select("user_id")
      .where("tenant_id", "=", tenantId)
      .where("role", "=", "tenant_admin")
      .executeTakeFirst();
    let admin: BootstrapResult["admin"] = null;
    if (!existingAdmin) {
      const email = (input.adminEmail ?? `admin@${input.domains[0] ?? "mailward.local"}`).toLowerCase();
      const generatedPassword = input.adminPassword ? null : randomBytes(18).toString("base64url");
      const user = await trx
        .insertInto("users")
        .values({
          tenant_id: tenantId,
          email,
          display_name: "Administrator",
          password_hash: await hashPassword(input.adminPassword ?? generatedPassword ?? ""),
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      for (const role of ["tenant_admin", "security_admin"] as const) {
        await trx
          .insertInto("role_assignments")
          .values({ tenant_id: tenantId, user_id: user.id, role, scope: "tenant", scope_id: null })
          .execute();
      }
      await appendAudit(trx, {
        tenantId,
        actorId: null,
        actorLabel: "system:bootstrap",
        action: "user.created",
        targetType: "user",
        targetId: user.id,
        details: { email, roles: ["tenant_admin", "security_admin"], source: "first-start" },
      });
      admin = { email, generatedPassword };
    }
    return {
      tenantId,
      createdTenant,
      addedDomains,
      unappliedDomains,
      takesMail: taken.size > 0,
      admin,
    };
  });
}
