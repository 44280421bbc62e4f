import type { Services } from "../context";
import {
  applyDirectoryMembers,
  groupNamesOf,
  type DirectoryMembersOutcome,
} from "../commands/users/directory-members";
import type { GraphApi } from "./client";
import { describeError } from "./errors";

/** Graph's largest page of directory objects. */
const PAGE_SIZE = "999";
const USER_TYPE = "#microsoft.graph.user";

/** A member as `GET /groups/{id}/transitiveMembers?$select=id` lists it: a user, a nested group, a device... */
interface DirectoryObjectRef {
  id: string;
  "@odata.type"?: string;
}

/** The tenant's Mailward accounts by their Entra object id (people without an account are nobody here). */
async function accountsByOid(services: Services, tenantId: string): Promise<Map<string, string>> {
  const rows = await services.db
    .selectFrom("users")
    .select(["id", "entra_oid"])
    .where("tenant_id", "=", tenantId)
    .where("entra_oid", "is not", null)
    .execute();
  return new Map(rows.flatMap((row) => (row.entra_oid ? [[row.entra_oid, row.id] as const] : [])));
}

/**
 * Reads who is in each of the tenant's groups with an address (`GET /groups/{id}/transitiveMembers`, every page;
 * GroupMember.Read.All: people in nested groups count, the nested groups themselves do not) and makes group_members
 * that, so the members of a group see and release its held mail. A group whose listing fails keeps its members
 * (warned once per round; the next sweep retries). `namesBefore`: the groups' names before this round's address
 * changes, for the audit event of a group that lost its addresses.
 */
export async function syncDirectoryMembers(
  services: Services,
  api: GraphApi,
  tenantId: string,
  namesBefore: ReadonlyMap<string, string>,
): Promise<DirectoryMembersOutcome> {
  const groups = await groupNamesOf(services.db, tenantId);
  const members = new Map<string, Set<string>>();
  const failures: unknown[] = [];
  for (const oid of groups.keys()) {
    try {
      const { items } = await api.collect<DirectoryObjectRef>(
        `/groups/${encodeURIComponent(oid)}/transitiveMembers`,
        { query: { $select: "id", $top: PAGE_SIZE } },
      );
      members.set(oid, new Set(items.filter((m) => m["@odata.type"] === USER_TYPE).map((m) => m.id)));
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0)
    services.logger.warn(
      { tenant: tenantId, groups: failures.length, error: describeError(failures[0]) },
      "directory sync could not list the members of some groups; their members stay as they were, next sweep retries",
    );
  const accounts = await accountsByOid(services, tenantId);
  const users = new Map<string, Set<string>>();
  for (const [oid, oids] of members)
    users.set(oid, new Set([...oids].flatMap((member) => accounts.get(member) ?? [])));
  return applyDirectoryMembers(services, tenantId, users, namesBefore);
}
