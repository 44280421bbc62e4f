import type { Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { auditActor, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError } from "../../http/errors";
import { canManageAddresses } from "../../policies/users";
import { userToManage, type AdminUserRecord } from "./queries";
import { domainOfAddress } from "../../mail/scan/domains";
import { addressOwner, claimAddresses } from "./address-owner";
import { graphOf } from "../../graph/runtime";
import { lockedOwnerOf } from "../tenants/domains";

/** The most other addresses one person has (Microsoft 365 allows some 400 proxy addresses; real people have a few). */
export const MAX_ADDRESSES_PER_USER = 50;

/**
 * Refuses (409 address_in_other_organisation_domain) a new person's own address (an invitation, the CLI's `user add`)
 * in a mail domain another organisation on this server has verified: that organisation owns its addresses. An
 * address is one person's at most on this server (addressOwner), and the owner's directory sync, aliases and groups
 * are refused an address someone already holds, so such an account would keep the domain's owner from giving the
 * address to its own person. Addresses in the organisation's own domains (verified or pending) and in domains nobody
 * here has verified stay allowed: a partner's agent may have an account at the vendor's own address in several
 * organisations. The answer names neither the other organisation nor who holds the address, and comes before the
 * address's holder is looked at. A domain verified after the account was made leaves it as it is (as for accounts
 * from before this rule). It reads the domain's owner under its lock (lockedOwnerOf), held until the transaction ends, so a proof being
 * committed at that moment is waited for and then refuses, and a proof that comes later finds the account made.
 */
export async function refuseAddressInOtherOrganisationDomain(
  trx: Transaction<Database>,
  tenantId: string,
  address: string,
): Promise<void> {
  const domain = domainOfAddress(address);
  const owner = await lockedOwnerOf(trx, domain);
  if (owner !== null && owner !== tenantId)
    throw new ApiError(
      "address_in_other_organisation_domain",
      `${address} is in ${domain}, a mail domain another organisation on this server has proved, so its addresses are that organisation's: use an address in one of your own domains.`,
    );
}

/**
 * Refuses a new user whose address is already another person's alias or a group's (already_exists): the gateway
 * would not know whose mail it is. Aliases and group addresses are unique across organisations (their tables' primary
 * key is the address, migrations 1200 and 1400), so another organisation's blocks too; given the creating
 * organisation (`tenantId`), such a clash is told without describing the other organisation's address (whose alias,
 * a group's) or asking to remove it "there", which its admin cannot.
 */
export async function refuseAliasClash(
  trx: Transaction<Database>,
  email: string,
  tenantId?: string,
): Promise<void> {
  const owner = await addressOwner(trx, email.toLowerCase());
  if ((owner?.kind === "alias" || owner?.kind === "group") && tenantId && owner.tenantId !== tenantId)
    throw new ApiError(
      "already_exists",
      `${email} is already in use as an address on this server, so it cannot be a person's address here.`,
    );
  if (owner?.kind === "alias" || owner?.kind === "group")
    throw new ApiError(
      "already_exists",
      owner.kind === "alias"
        ? `${email} is another address of an existing user: remove it there first.`
        : `${email} is a group's address (from Entra ID): it cannot also be a person's.`,
    );
}

/**
 * One change to a person's other addresses in a transaction: the person within the actor's reach (404 if not),
 * canManageAddresses, the change, then its audit event (`user.address_added` / `_removed`) unless nothing changed.
 */
async function changeAddresses(
  services: Services,
  actor: Actor,
  ip: string | null,
  userId: string,
  address: string,
  action: "added" | "removed",
  change: (trx: Transaction<Database>, user: AdminUserRecord) => Promise<AdminUserRecord | "unchanged">,
): Promise<AdminUserRecord> {
  return runCommand(services, actor, ip, async ({ trx, now }) => {
    const user = await userToManage(trx, actor, userId, canManageAddresses);
    const changed = await change(trx, user);
    if (changed === "unchanged") return user;
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      ...auditActor(actor),
      action: `user.address_${action}`,
      targetType: "user",
      targetId: user.id,
      details: { email: user.email, address },
      ip,
      at: now,
    });
    return changed;
  });
}

/**
 * Gives a person another address (an alias, as Microsoft 365's proxy addresses): the gateway then takes mail
 * to it as theirs, files it in their archive and quarantine, and lets them send from it. It must be in one of
 * the organisation's domains and nobody's address yet, anywhere. Tenant admins only (canManageAddresses); audited.
 */
export async function addUserAddress(
  services: Services,
  actor: Actor,
  ip: string | null,
  userId: string,
  address: string,
): Promise<AdminUserRecord> {
  return changeAddresses(services, actor, ip, userId, address, "added", async (trx, user) => {
    // Held until the commit: a removal of the domain at this moment waits, then finds the alias and keeps the domain.
    if ((await lockedOwnerOf(trx, domainOfAddress(address))) !== actor.tenantId)
      throw new ApiError("invalid_request", `${address} is not in one of your organisation's mail domains.`);
    await claimAddresses(trx, [address]);
    const owner = await addressOwner(trx, address, actor.tenantId);
    if (owner?.kind === "alias" && owner.userId === user.id) return "unchanged";
    if (owner) throw new ApiError("already_exists", `${address} is already someone's address.`);
    if (user.addresses.length >= MAX_ADDRESSES_PER_USER)
      throw new ApiError(
        "invalid_request",
        `${user.email} has ${MAX_ADDRESSES_PER_USER} other addresses already: remove one first.`,
      );
    const inserted = await trx
      .insertInto("user_addresses")
      .values({ address, tenant_id: actor.tenantId, user_id: user.id })
      .onConflict((oc) => oc.column("address").doNothing())
      .returning("address")
      .executeTakeFirst();
    // Someone else took it between our check and the insert.
    if (!inserted) throw new ApiError("already_exists", `${address} is already someone's address.`);
    return { ...user, addresses: [...user.addresses, address].sort() };
  });
}

/** Refuses (conflict) to remove an address the directory sync manages: the next sync would add it back. */
async function refuseDirectoryAddress(
  trx: Transaction<Database>,
  userId: string,
  address: string,
): Promise<void> {
  const row = await trx
    .selectFrom("user_addresses")
    .select("source")
    .where("address", "=", address)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  if (row?.source === "directory")
    throw new ApiError(
      "conflict",
      `${address} comes from Entra ID (directory sync): remove the proxy address there, or the next sync adds it back.`,
    );
}

/**
 * Takes another address away from a person (mail to it is then refused as an unknown user, at once); audited.
 * While the directory sync runs, an address it read from Entra is refused (conflict): the next sync would add
 * it back, so it is removed in Entra.
 */
export async function removeUserAddress(
  services: Services,
  actor: Actor,
  ip: string | null,
  userId: string,
  address: string,
): Promise<AdminUserRecord> {
  const changed = await changeAddresses(
    services,
    actor,
    ip,
    userId,
    address,
    "removed",
    async (trx, user) => {
      if (graphOf(services)?.directory) await refuseDirectoryAddress(trx, user.id, address);
      const removed = await trx
        .deleteFrom("user_addresses")
        .where("address", "=", address)
        .where("user_id", "=", user.id)
        .executeTakeFirst();
      if (Number(removed.numDeletedRows) === 0)
        throw new ApiError("not_found", `${address} is not one of ${user.email}'s addresses.`);
      return { ...user, addresses: user.addresses.filter((a) => a !== address) };
    },
  );
  services.signals.recipientsChanged();
  return changed;
}
