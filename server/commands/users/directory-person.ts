import type { Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { runCommand, type Actor, type Services } from "../../context";
import { systemActor } from "../../auth/actor";
import { MAX_ADDRESSES_PER_USER } from "./addresses";
import { addressOwner, claimAddresses, lockOwnDomains } from "./address-owner";
import { createEntraAgent } from "./entra-agent";
import { auditDirectoryChange } from "./directory-audit";

/** One person as the directory (Entra, through Graph) lists them, already checked against the organisation's domains. */
export interface DirectoryPerson {
  /** Entra object id: people are matched by it, as at sign-in. */
  oid: string;
  /** Their primary SMTP address, lower case. */
  primary: string;
  displayName: string;
  /** Their other SMTP addresses in the organisation's domains, lower case, without the primary. */
  aliases: string[];
}

/** What one person's sync did. A conflict leaves their account as it was and says why. */
export type DirectoryPersonOutcome =
  | {
      kind: "created" | "linked" | "updated" | "unchanged";
      userId: string;
      aliasesAdded: number;
      aliasesRemoved: number;
      /** Aliases left out because they are already someone else's address. */
      aliasesTaken: string[];
    }
  | { kind: "conflict"; reason: "address_taken" | "address_is_alias" }
  /** Their address's domain is no longer the organisation's (removed since the round read the domains). */
  | { kind: "skipped" };

function audit(
  trx: Transaction<Database>,
  actor: Actor,
  now: Date,
  action: string,
  userId: string,
  details: Record<string, unknown>,
): Promise<unknown> {
  return auditDirectoryChange(trx, actor, now, { action, targetType: "user", targetId: userId, details });
}

/** The person's account: theirs by oid, an unlinked account of theirs by address (then linked), or a new agent. */
async function accountOf(
  trx: Transaction<Database>,
  actor: Actor,
  now: Date,
  person: DirectoryPerson,
): Promise<
  | { kind: "created" | "linked" | "found"; userId: string; returned?: boolean }
  | { kind: "conflict"; reason: "address_taken" | "address_is_alias" }
> {
  const linked = await trx
    .selectFrom("users")
    .select(["id", "left_directory_at"])
    .where("tenant_id", "=", actor.tenantId)
    .where("entra_oid", "=", person.oid)
    .executeTakeFirst();
  if (linked) {
    if (linked.left_directory_at !== null) {
      // Back in Entra (restored): their mail is taken again. The account stays disabled until an admin enables it.
      await trx
        .updateTable("users")
        .set({ left_directory_at: null, updated_at: now })
        .where("id", "=", linked.id)
        .execute();
      await audit(trx, actor, now, "user.returned_to_directory", linked.id, { email: person.primary });
    }
    return { kind: "found", userId: linked.id, returned: linked.left_directory_at !== null };
  }
  const owner = await addressOwner(trx, person.primary, actor.tenantId);
  if (owner?.kind === "alias") return { kind: "conflict", reason: "address_is_alias" };
  if (owner?.kind === "group") return { kind: "conflict", reason: "address_taken" };
  if (owner) {
    // An account made by hand (CLI, invitation) for this address in this organisation becomes theirs.
    if (owner.tenantId !== actor.tenantId || owner.entraOid !== null)
      return { kind: "conflict", reason: "address_taken" };
    await trx
      .updateTable("users")
      .set({ entra_oid: person.oid, updated_at: now })
      .where("id", "=", owner.userId)
      .execute();
    await audit(trx, actor, now, "user.linked", owner.userId, { email: person.primary, oid: person.oid });
    return { kind: "linked", userId: owner.userId };
  }
  const userId = await createEntraAgent(trx, {
    tenantId: actor.tenantId,
    email: person.primary,
    displayName: person.displayName,
    oid: person.oid,
  });
  await audit(trx, actor, now, "user.created", userId, {
    email: person.primary,
    roles: ["agent"],
    oid: person.oid,
  });
  return { kind: "created", userId };
}

/** A renamed person keeps their account: the new primary address and name, if the address is free (or their own alias). */
async function followRename(
  trx: Transaction<Database>,
  actor: Actor,
  now: Date,
  userId: string,
  person: DirectoryPerson,
): Promise<"updated" | "unchanged" | "address_taken"> {
  const current = await trx
    .selectFrom("users")
    .select(["email", "display_name"])
    .where("id", "=", userId)
    .executeTakeFirstOrThrow();
  const renamed = current.email.toLowerCase() !== person.primary;
  const relabelled = current.display_name !== person.displayName;
  if (!renamed && !relabelled) return "unchanged";
  if (renamed) {
    const owner = await addressOwner(trx, person.primary, actor.tenantId);
    if (owner && (owner.kind === "group" || owner.userId !== userId)) return "address_taken";
    if (owner?.kind === "alias")
      await trx.deleteFrom("user_addresses").where("address", "=", person.primary).execute();
  }
  await trx
    .updateTable("users")
    .set({
      email: renamed ? person.primary : current.email,
      display_name: person.displayName,
      updated_at: now,
    })
    .where("id", "=", userId)
    .execute();
  await audit(trx, actor, now, "user.updated", userId, {
    ...(renamed ? { email: { from: current.email, to: person.primary } } : { email: current.email }),
    ...(relabelled ? { displayName: { from: current.display_name, to: person.displayName } } : {}),
  });
  return "updated";
}

/** Adds the directory's aliases that are free, and removes the ones the directory dropped (never an admin's). */
async function syncAliases(
  trx: Transaction<Database>,
  actor: Actor,
  now: Date,
  userId: string,
  person: DirectoryPerson,
): Promise<{ added: number; removed: number; taken: string[] }> {
  const rows = await trx
    .selectFrom("user_addresses")
    .select(["address", "source"])
    .where("user_id", "=", userId)
    .execute();
  const mine = new Map(rows.map((r) => [r.address, r.source]));
  const wanted = new Set(person.aliases.filter((a) => a !== person.primary));
  let removed = 0;
  for (const [address, source] of mine) {
    if (source !== "directory" || wanted.has(address)) continue;
    await trx
      .deleteFrom("user_addresses")
      .where("address", "=", address)
      .where("user_id", "=", userId)
      .execute();
    await audit(trx, actor, now, "user.address_removed", userId, { email: person.primary, address });
    mine.delete(address);
    removed += 1;
  }
  let added = 0;
  const taken: string[] = [];
  for (const address of wanted) {
    if (mine.has(address)) continue;
    if (mine.size >= MAX_ADDRESSES_PER_USER) break;
    const owner = await addressOwner(trx, address, actor.tenantId);
    const inserted = owner
      ? undefined
      : await trx
          .insertInto("user_addresses")
          .values({ address, tenant_id: actor.tenantId, user_id: userId, source: "directory" })
          .onConflict((oc) => oc.column("address").doNothing())
          .returning("address")
          .executeTakeFirst();
    if (!inserted) {
      taken.push(address);
      continue;
    }
    await audit(trx, actor, now, "user.address_added", userId, { email: person.primary, address });
    mine.set(address, "directory");
    added += 1;
  }
  return { added, removed, taken };
}

/**
 * Brings one directory person's Mailward account in line with Entra, in one transaction with its audit events
 * (actor `system:directory-sync`): their account (found by oid; else an unlinked account with their address,
 * then linked; else created as an agent, as a first sign-in would), their primary address and name, and the
 * aliases the directory gave them. Someone else's address is never taken over: that is a conflict.
 */
export async function applyDirectoryPerson(
  services: Services,
  tenantId: string,
  person: DirectoryPerson,
): Promise<DirectoryPersonOutcome> {
  const actor = systemActor(tenantId, "directory-sync");
  return runCommand(services, actor, null, async ({ trx, now }) => {
    const own = await lockOwnDomains(trx, tenantId, [person.primary, ...person.aliases]);
    if (!own(person.primary)) return { kind: "skipped" };
    person = { ...person, aliases: person.aliases.filter(own) };
    // All of the person's addresses at once, before the first audit event locks the organisation's log.
    await claimAddresses(trx, [person.primary, ...person.aliases]);
    const account = await accountOf(trx, actor, now, person);
    if (account.kind === "conflict") return account;
    // A new account has the directory's name and address already; a found or linked one may not.
    const renamed =
      account.kind === "created" ? "unchanged" : await followRename(trx, actor, now, account.userId, person);
    if (renamed === "address_taken") return { kind: "conflict", reason: "address_taken" };
    const aliases = await syncAliases(trx, actor, now, account.userId, person);
    const changed =
      renamed === "updated" || aliases.added > 0 || aliases.removed > 0 || account.returned === true;
    return {
      kind: account.kind === "found" ? (changed ? "updated" : "unchanged") : account.kind,
      userId: account.userId,
      aliasesAdded: aliases.added,
      aliasesRemoved: aliases.removed,
      aliasesTaken: aliases.taken,
    };
  });
}

/** An Entra-linked account as the last sync left it: enough to tell whether a person needs a transaction at all. */
export interface LinkedAccount {
  email: string;
  displayName: string;
  /** Its aliases from the directory, sorted. */
  directoryAliases: string[];
  /** The sync found them gone from Entra (they are back if listed now). */
  leftDirectory: boolean;
}

/**
 * The organisation's Entra-linked accounts by object id, read in two queries, so a round opens a transaction
 * only for the people whose account differs from the directory (a large directory is mostly unchanged).
 */
export async function linkedAccounts(
  services: Services,
  tenantId: string,
): Promise<Map<string, LinkedAccount>> {
  const users = await services.db
    .selectFrom("users")
    .select(["id", "email", "display_name", "entra_oid", "left_directory_at"])
    .where("tenant_id", "=", tenantId)
    .where("entra_oid", "is not", null)
    .execute();
  const aliases = await services.db
    .selectFrom("user_addresses")
    .select(["user_id", "address"])
    .where("tenant_id", "=", tenantId)
    .where("source", "=", "directory")
    .orderBy("address")
    .execute();
  const aliasesOf = new Map<string, string[]>();
  for (const a of aliases) aliasesOf.set(a.user_id, [...(aliasesOf.get(a.user_id) ?? []), a.address]);
  return new Map(
    users.flatMap((u) =>
      u.entra_oid
        ? [
            [
              u.entra_oid,
              {
                email: u.email.toLowerCase(),
                displayName: u.display_name,
                directoryAliases: aliasesOf.get(u.id) ?? [],
                leftDirectory: u.left_directory_at !== null,
              },
            ] as const,
          ]
        : [],
    ),
  );
}

/** True when the account already is what the directory says (address, name, exactly its aliases): nothing to do. */
export function isInLine(account: LinkedAccount | undefined, person: DirectoryPerson): boolean {
  return (
    account !== undefined &&
    !account.leftDirectory &&
    account.email === person.primary &&
    account.displayName === person.displayName &&
    account.directoryAliases.join(" ") === [...person.aliases].sort().join(" ")
  );
}
