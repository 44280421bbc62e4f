import type { Kysely } from "kysely";
import type { Database } from "../../../server/db/schema";
import type { Role } from "../../../shared/permissions";
import { buildTenant, buildUser } from "../../factories";
import { ApiClient } from "../../support/http";
import { defaultTenantId } from "../auth/auth-helpers";

/** A password every user of the admin tests shares. */
export const PASSWORD = "a long enough passphrase";

/** People and groups the admin API tests act on, in the server's default tenant and in another one. */
export interface AdminWorld {
  tenantId: string;
  teamId: string;
  partnerId: string;
  otherPartnerId: string;
  foreignTenantId: string;
  foreignUserId: string;
  login(
    roles: Role[],
    extra?: { partnerId?: string | null; teamId?: string | null },
  ): Promise<{ id: string; email: string; client: ApiClient }>;
  user(
    roles: Role[],
    extra?: { partnerId?: string | null; teamId?: string | null },
  ): Promise<{ id: string; email: string }>;
  /** A team straight in the database, in the default tenant: in a partner group, or in-house (null). */
  team(name: string, partnerId: string | null): Promise<string>;
  /** A partner group straight in the database, in the default tenant. */
  partner(name: string): Promise<string>;
}

/** Builds the groups and a foreign tenant; `login` creates a user with roles and signs them in. */
export async function buildAdminWorld(db: Kysely<Database>, baseUrl: string): Promise<AdminWorld> {
  const tenantId = await defaultTenantId(db);
  const team = await db
    .insertInto("teams")
    .values({ tenant_id: tenantId, name: `Team ${Math.random()}` })
    .returning("id")
    .executeTakeFirstOrThrow();
  const partner = await db
    .insertInto("partners")
    .values({ tenant_id: tenantId, name: `BPO ${Math.random()}` })
    .returning("id")
    .executeTakeFirstOrThrow();
  const otherPartner = await db
    .insertInto("partners")
    .values({ tenant_id: tenantId, name: `BPO ${Math.random()}` })
    .returning("id")
    .executeTakeFirstOrThrow();
  const foreign = await buildTenant(db);
  const foreignUser = await buildUser(db, { tenantId: foreign.id, roles: ["agent"] });
  const user: AdminWorld["user"] = async (roles, extra = {}) => {
    const built = await buildUser(db, {
      tenantId,
      roles,
      password: PASSWORD,
      teamId: extra.teamId ?? null,
      partnerId: extra.partnerId ?? null,
    });
    return { id: built.id, email: built.email };
  };
  return {
    tenantId,
    teamId: team.id,
    partnerId: partner.id,
    otherPartnerId: otherPartner.id,
    foreignTenantId: foreign.id,
    foreignUserId: foreignUser.id,
    user,
    async team(name, partnerId) {
      const row = await db
        .insertInto("teams")
        .values({ tenant_id: tenantId, name, partner_id: partnerId })
        .returning("id")
        .executeTakeFirstOrThrow();
      return row.id;
    },
    async partner(name) {
      const row = await db
        .insertInto("partners")
        .values({ tenant_id: tenantId, name })
        .returning("id")
        .executeTakeFirstOrThrow();
      return row.id;
    },
    async login(roles, extra = {}) {
      const built = await user(roles, extra);
      const client = new ApiClient(baseUrl);
      const res = await client.login(built.email, PASSWORD);
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${res.text}`);
      return { ...built, client };
    },
  };
}
