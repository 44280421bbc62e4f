import type { Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import type { EntraSettings } from "./settings";
import { refuseAliasClash } from "../../commands/users/addresses";
import { createEntraAgent } from "../../commands/users/entra-agent";

/** Who an Entra sign-in (token or portal) says the person is. */
export interface EntraIdentity {
  tenantId: string;
  oid: string;
  name: string | null;
  username: string | null;
}

/** The Mailward tenant an Entra directory is mapped to (tenants.entra_tenant_id), with its JIT setting. */
async function mappedTenant(services: Services, entraTenantId: string, settings: EntraSettings) {
  const tenant = await services.db
    .selectFrom("tenants")
    .select(["id", "settings"])
    .where((eb) => eb(eb.fn("lower", ["entra_tenant_id"]), "=", entraTenantId.toLowerCase()))
    .executeTakeFirst();
  if (!tenant) return null;
  const entra = (tenant.settings as { entra?: { jitUsers?: unknown } }).entra;
  const jit = typeof entra?.jitUsers === "boolean" ? entra.jitUsers : settings.jitDefault;
  return { id: tenant.id, jit };
}

async function findLinkedUser(services: Services, tenantId: string, oid: string) {
  return services.db
    .selectFrom("users")
    .select(["id", "disabled_at"])
    .where("tenant_id", "=", tenantId)
    .where("entra_oid", "=", oid)
    .executeTakeFirst();
}

/**
 * Maps an Entra identity (oid + tid) to a Mailward user. People are linked by
 * `oid` only, never by their (mutable, unverified) username. An unknown person
 * of a mapped tenant is created just in time as an `agent` when the tenant
 * allows it (tenants.settings.entra.jitUsers, default MAILWARD_ENTRA_JIT_USERS); audited.
 */
export async function resolveEntraUser(
  services: Services,
  identity: EntraIdentity,
  settings: EntraSettings,
  ip: string | null,
): Promise<{ userId: string; tenantId: string; created: boolean }> {
  const tenant = await mappedTenant(services, identity.tenantId, settings);
  if (!tenant)
    throw new ApiError("account_not_provisioned", "Your organisation is not set up on this server yet.");
  const linked = await findLinkedUser(services, tenant.id, identity.oid);
  if (linked) {
    if (linked.disabled_at) throw new ApiError("account_disabled");
    return { userId: linked.id, tenantId: tenant.id, created: false };
  }
  if (!tenant.jit) throw new ApiError("account_not_provisioned");
  const email = identity.username ?? `${identity.oid}@entra.invalid`;
  try {
    const userId = await services.db.transaction().execute(async (trx) => {
      const now = services.now();
      // Someone's alias is theirs: a sign-in must not take the address's mail over.
      await refuseAliasClash(trx, email);
      const userId = await createEntraAgent(trx, {
        tenantId: tenant.id,
        email,
        displayName: identity.name ?? email.split("@")[0] ?? email,
        oid: identity.oid,
      });
      await appendAudit(trx, {
        tenantId: tenant.id,
        actorId: null,
        actorLabel: "system:entra-jit",
        action: "user.created",
        targetType: "user",
        targetId: userId,
        details: {
          email,
          roles: ["agent"],
          source: "entra_jit",
          entraTenantId: identity.tenantId,
          oid: identity.oid,
        },
        ip,
        at: now,
      });
      return userId;
    });
    return { userId, tenantId: tenant.id, created: true };
  } catch {
    // A concurrent first request created it, or the email belongs to an unlinked local account or is an alias.
    const raced = await findLinkedUser(services, tenant.id, identity.oid);
    if (raced && !raced.disabled_at) return { userId: raced.id, tenantId: tenant.id, created: false };
    throw new ApiError(
      "account_not_provisioned",
      "An account with your email exists but is not linked to Microsoft. Ask your administrator.",
    );
  }
}

/** Maps the default tenant to MAILWARD_ENTRA_TENANT_ID on start when it has no mapping yet (idempotent). */
export async function mapDefaultEntraTenant(
  services: Services,
  tenantId: string,
  settings: EntraSettings,
): Promise<void> {
  const entraTenantId = settings.defaultTenantId;
  if (!entraTenantId) return;
  const taken = await services.db
    .selectFrom("tenants")
    .select("id")
    .where((eb) => eb(eb.fn("lower", ["entra_tenant_id"]), "=", entraTenantId))
    .executeTakeFirst();
  if (taken) return;
  await services.db
    .updateTable("tenants")
    .set({ entra_tenant_id: entraTenantId })
    .where("id", "=", tenantId)
    .where("entra_tenant_id", "is", null)
    .execute();
}
