import type { Kysely, Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { runCommand, type Services } from "../../context";
import { systemActor } from "../../auth/actor";
import { auditDirectoryChange } from "./directory-audit";

/** How many user ids an audit event names in each list (the counts say how many there were). */
const AUDITED_IDS = 50;

/** Rows per statement: a group of tens of thousands stays under PostgreSQL's 65,535 bound parameters. */
const ROWS_PER_STATEMENT = 1000;

/** What a members round changed: rows of group_members added and removed, over every group of the tenant. */
export interface DirectoryMembersOutcome {
  added: number;
  removed: number;
}

/** One group's membership change: the people to add and to remove. */
interface MembershipChange {
  oid: string;
  add: string[];
  remove: string[];
}

function chunks(ids: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let start = 0; start < ids.length; start += ROWS_PER_STATEMENT)
    out.push(ids.slice(start, start + ROWS_PER_STATEMENT));
  return out;
}

type Db = Kysely<Database> | Transaction<Database>;

/** Display names of the tenant's groups with an address, by Entra object id. */
export async function groupNamesOf(db: Db, tenantId: string): Promise<Map<string, string>> {
  const rows = await db
    .selectFrom("group_addresses")
    .select(["group_oid", "display_name"])
    .where("tenant_id", "=", tenantId)
    .orderBy("address")
    .execute();
  const names = new Map<string, string>();
  for (const row of rows) if (!names.has(row.group_oid)) names.set(row.group_oid, row.display_name);
  return names;
}

/** The tenant's rows as they are: members by group, and the names of the groups that have an address. */
async function currentMembership(db: Db, tenantId: string) {
  const rows = await db
    .selectFrom("group_members")
    .select(["group_oid", "user_id"])
    .where("tenant_id", "=", tenantId)
    .execute();
  const members = new Map<string, Set<string>>();
  for (const row of rows)
    members.set(row.group_oid, (members.get(row.group_oid) ?? new Set()).add(row.user_id));
  return { members, addressed: await groupNamesOf(db, tenantId) };
}

/**
 * The changes that make the rows what the directory lists: a listed group gets exactly its members, a group whose
 * listing failed (absent from `listed`) keeps its rows, and a group without an address any more loses them all.
 */
function changesOf(
  current: Awaited<ReturnType<typeof currentMembership>>,
  listed: ReadonlyMap<string, ReadonlySet<string>>,
): MembershipChange[] {
  const none = new Set<string>();
  const oids = [...new Set([...current.members.keys(), ...listed.keys()])].sort();
  return oids.flatMap((oid) => {
    const have = current.members.get(oid) ?? none;
    const want = current.addressed.has(oid) ? (listed.get(oid) ?? have) : none;
    const add = [...want].filter((id) => !have.has(id)).sort();
    const remove = [...have].filter((id) => !want.has(id)).sort();
    return add.length > 0 || remove.length > 0 ? [{ oid, add, remove }] : [];
  });
}

/**
 * Makes the organisation's group_members what the directory lists (members: each group whose member listing
 * succeeded, with the Mailward accounts of its transitive members), one audit event `group.members_changed` per
 * group that changed, all in one transaction. A group missing from `members` keeps its rows: a failed listing must
 * never look like an empty group. Rows of groups without an address in group_addresses go. Compares first, outside
 * a transaction, and opens none when nothing differs (the usual round). `names` are display names the caller knows
 * for groups that may have lost their addresses (the audit event names the group).
 */
export async function applyDirectoryMembers(
  services: Services,
  tenantId: string,
  members: ReadonlyMap<string, ReadonlySet<string>>,
  names: ReadonlyMap<string, string> = new Map(),
): Promise<DirectoryMembersOutcome> {
  if (changesOf(await currentMembership(services.db, tenantId), members).length === 0)
    return { added: 0, removed: 0 };
  const actor = systemActor(tenantId, "directory-sync");
  return runCommand(services, actor, null, async ({ trx, now }) => {
    const current = await currentMembership(trx, tenantId);
    const outcome: DirectoryMembersOutcome = { added: 0, removed: 0 };
    for (const change of changesOf(current, members)) {
      for (const ids of chunks(change.remove))
        await trx
          .deleteFrom("group_members")
          .where("tenant_id", "=", tenantId)
          .where("group_oid", "=", change.oid)
          .where("user_id", "in", ids)
          .execute();
      for (const ids of chunks(change.add))
        await trx
          .insertInto("group_members")
          .values(ids.map((userId) => ({ tenant_id: tenantId, group_oid: change.oid, user_id: userId })))
          .onConflict((oc) => oc.doNothing())
          .execute();
      await auditDirectoryChange(trx, actor, now, {
        action: "group.members_changed",
        targetType: "group",
        targetId: change.oid,
        details: {
          group: current.addressed.get(change.oid) ?? names.get(change.oid) ?? change.oid,
          added: change.add.slice(0, AUDITED_IDS),
          removed: change.remove.slice(0, AUDITED_IDS),
          addedCount: change.add.length,
          removedCount: change.remove.length,
          ...(current.addressed.has(change.oid) ? {} : { reason: "group_has_no_address" }),
        },
      });
      outcome.added += change.add.length;
      outcome.removed += change.remove.length;
    }
    return outcome;
  });
}
