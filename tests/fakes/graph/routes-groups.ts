import { GROUP_READ, holdsPermission, requirePermission, USER_READ } from "./auth";
import { collectionResponse } from "./collection";
import { newGroup, transitiveMembersOf, type GroupMember } from "./groups";
import { selectList } from "./odata";
import { renderUser } from "./routes-folders";
import { MailStore, type StoredGroup } from "./store";
import type { Route } from "./router";
import { GraphError, type GraphRequest } from "./types";

/** Graph's group resource (the properties the directory sync reads, and a few more). */
export function renderGroup(group: StoredGroup): Record<string, unknown> {
  return {
    id: group.id,
    description: null,
    displayName: group.displayName,
    groupTypes: [],
    mail: group.mail,
    mailEnabled: group.mailEnabled,
    mailNickname: group.mail?.split("@")[0] ?? group.displayName,
    proxyAddresses: group.proxyAddresses,
    securityEnabled: group.securityEnabled,
  };
}

/** Every property a member can have: a user's or a group's ($select of any other is Graph's 400). */
const MEMBER_PROPERTIES = new Set([
  ...Object.keys(renderUser(new MailStore().addUser({ userPrincipalName: "x@x.invalid" }))),
  ...Object.keys(renderGroup(newGroup({ displayName: "x" }))),
]);

/**
 * A member as a directoryObject collection lists it: its `@odata.type`, and, when the caller may not read users
 * (GroupMember.Read.All alone), a user's id only, its other properties null ("limited information").
 */
function renderMember(member: GroupMember, readsUsers: boolean): Record<string, unknown> {
  if (member.kind === "group")
    return { "@odata.type": "#microsoft.graph.group", ...renderGroup(member.group) };
  const user = renderUser(member.user);
  if (!readsUsers) for (const name of Object.keys(user)) if (name !== "id") user[name] = null;
  return { "@odata.type": "#microsoft.graph.user", ...user };
}

/** $select on a directoryObject: `@odata.type` and id always; a property of the other type is left out. */
function selectMember(item: Record<string, unknown>, select: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { "@odata.type": item["@odata.type"], id: item.id };
  for (const name of select) if (name in item) out[name] = item[name];
  return out;
}

function requireGroup(store: MailStore, id: string): StoredGroup {
  const group = store.groups.get(id);
  if (!group)
    throw new GraphError(
      404,
      "Request_ResourceNotFound",
      `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
    );
  return group;
}

function checkSelect(req: GraphRequest): void {
  for (const name of selectList(req.query) ?? [])
    if (!MEMBER_PROPERTIES.has(name))
      throw new GraphError(
        400,
        "Request_BadRequest",
        `Could not find a property named '${name}' on type 'microsoft.graph.directoryObject'.`,
      );
}

/** Routes for /groups (mail-enabled groups for the directory sync) and a group's transitive members. */
export const groupRoutes: Route[] = [
  {
    method: "GET",
    pattern: "groups",
    handler: (ctx, req) => {
      requirePermission(req.principal, GROUP_READ);
      return collectionResponse(ctx, req, [...ctx.store.groups.values()].map(renderGroup), {
        typeName: "microsoft.graph.group",
        contextPath: "groups",
        maxTop: 999,
      });
    },
  },
  {
    method: "GET",
    pattern: "groups/:group/transitiveMembers",
    handler: (ctx, req, params) => {
      requirePermission(req.principal, GROUP_READ);
      const group = requireGroup(ctx.store, params.group ?? "");
      checkSelect(req);
      const readsUsers = holdsPermission(req.principal, USER_READ);
      const members = transitiveMembersOf(ctx.store, group).map((m) => renderMember(m, readsUsers));
      return collectionResponse(ctx, req, members, {
        typeName: "microsoft.graph.directoryObject",
        contextPath: "directoryObjects",
        maxTop: 999,
        select: selectMember,
      });
    },
  },
];
