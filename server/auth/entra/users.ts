import type { Kysely } from "kysely";
import type { Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import type { EntraSettings } from "./settings";
import { refuseAliasClash } from "../../commands/users/addresses";
import { createEntraAgent } from "../../commands/users/entra-agent";
import { claimAddresses } from "../../commands/users/address-owner";
import { verifiedOwnerOf } from "../../db/verified-domains";
import { lockedOwnerOf } from "../../commands/tenants/domains";
import type { Database } from "../../db/schema";

/** Who an Entra sign-in (token or portal) says the person is. */
export interface EntraIdentity {
  tenantId: string;
  oid: string;
  name: string | null;
  username: string | null;
  /** A guest of the directory (acct = 1, another identity provider, or an #EXT# sign-in name): never made just in time. */
  guest: boolean;
}

/**
 * Whether an Entra token's claims are a guest's: `acct` 1 (optional claim), an `idp` other than the token's own
 * directory (Entra sets it for users from elsewhere), or a guest's `#EXT#` sign-in name.
 */
export function isGuestClaims(claims: Record<string, unknown>, tenantId: string): boolean {
  if (claims.acct === 1 || claims.acct === "1") return true;
  if (typeof claims.idp === "string" && !claims.idp.toLowerCase().includes(tenantId.toLowerCase()))
    return true;
  return [claims.preferred_username, claims.upn, claims.unique_name].some(
    (name) => typeof name === "string" && name.toLowerCase().includes("#ext#"),
  );
}

/** Why a sign-in name outside the organisation's verified mail domains gets no account just in time. */
class UnprovableName extends ApiError {
  constructor(email: string) {
    super(
      "account_not_provisioned",
      `Your Microsoft sign-in name${email ? ` (${email})` : ""} is not an address in your organisation's mail domains, so Mailward cannot make your account by itself. Ask your administrator to add you.`,
    );
  }
}

/**
 * The address a person's account would get just in time: their sign-in name. Refused for a guest, whose sign-in name
 * (their home address, or an #EXT# name) is not the organisation's to give. The directory sync or an administrator
 * adds such people.
 */
function justInTimeAddress(identity: EntraIdentity): string {
  if (identity.guest)
    throw new ApiError(
      "account_not_provisioned",
      "Guests of your organisation's directory do not get a Mailward account by signing in. Ask your administrator.",
    );
  return identity.username ?? "";
}

/**
 * Refuses a sign-in name outside the organisation's verified mail domains: the name would become the account's mail
 * address (what it may send from, whose mail it owns), and a sign-in name is neither verified nor always a mail address.
 */
async function refuseUnprovable(db: Kysely<Database>, tenantId: string, email: string): Promise<void> {
  const domain = domainOf(email);
  if (domain === "" || (await verifiedOwnerOf(db, domain)) !== tenantId) throw new UnprovableName(email);
}

const domainOf = (email: string) => (email.includes("@") ? email.slice(email.lastIndexOf("@") + 1) : "");

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
 * `oid` only, never by their (mutable, unverified) username. An unknown member
 * of a mapped tenant whose sign-in name is in its verified mail domains is created just in time as an `agent` when
 * the tenant allows it (tenants.settings.entra.jitUsers, default MAILWARD_ENTRA_JIT_USERS); audited.
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
  const email = justInTimeAddress(identity);
  await refuseUnprovable(services.db, tenant.id, email);
  try {
    const userId = await services.db.transaction().execute(async (trx) => {
      const now = services.now();
      // Again under the domain's lock, held until the commit: a removal of the domain at this moment waits, then
      // finds the account and keeps the domain, or goes first and this refuses.
      if ((await lockedOwnerOf(trx, domainOf(email))) !== tenant.id) throw new UnprovableName(email);
      await claimAddresses(trx, [email]);
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
  } catch (err) {
    if (err instanceof UnprovableName) throw err;
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
