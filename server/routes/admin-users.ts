import {
  adminUser,
  adminUserList,
  adminUsersQuery,
  assignRoleBody,
  grantPermissionBody,
  inviteUserBody,
  updateUserBody,
  userGrantParams,
  userRoleParams,
} from "../../shared/schemas/admin";
import { idParam } from "../../shared/schemas/common";
import { assignRole, removeRole } from "../commands/users/change-roles";
import { grantPermission, revokePermission } from "../commands/users/grants";
import { inviteUser } from "../commands/users/invite-user";
import { moveUser } from "../commands/users/move-user";
import { findUserForAdmin, listUsersPage } from "../commands/users/queries";
import { setUserDisabled } from "../commands/users/set-user-status";
import { ApiError } from "../http/errors";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { authorize } from "../policies/authorize";
import { canSeeUser, userReach } from "../policies/users";
import { presentAdminUser } from "../presenters/users";
import { revokeUserSmtpPasswords } from "../commands/users/revoke-smtp-passwords";
import { resetUserTotp } from "../commands/users/reset-totp";

/** /api/admin/users: people and their roles, within the caller's reach (tenant admins: the tenant; partner admins: their partner). */
export const adminUserRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/admin/users",
    summary: "List the users within your reach (cursor-paged; filters q, role, status)",
    tag: "admin",
    access: { kind: "permission", permission: "users.read" },
    query: adminUsersQuery,
    response: adminUserList,
    handler: async ({ actor, services, query }) => {
      const page = await listUsersPage(services.db, actor.tenantId, userReach(actor), query);
      const now = services.now();
      return {
        json: { items: page.items.map((u) => presentAdminUser(u, now)), nextCursor: page.nextCursor },
      };
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/admin/users",
    summary:
      "Invite a user (emailed set-password link) or pre-provision an Entra user (tenant admins only), not at an address in a domain another organisation has verified (409 address_in_other_organisation_domain); partner admins: agents of their partner only, by invitation, in a team of their partner or none (an address already someone's outside their reach: 403, not 409); partner_admin only for an invitee of a partner group (in-house: 400 role_scope_required)",
    tag: "admin",
    access: { kind: "permission", permission: "users.read" },
    body: inviteUserBody,
    response: adminUser,
    handler: async ({ actor, services, ip, body }) => {
      const user = await inviteUser(services, actor, ip, body);
      return { status: 201, body: presentAdminUser(user, services.now()) };
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/admin/users/:id",
    summary: "One user within your reach",
    tag: "admin",
    access: { kind: "permission", permission: "users.read" },
    params: idParam,
    response: adminUser,
    handler: async ({ actor, services, params }) => {
      const user = await findUserForAdmin(services.db, actor.tenantId, params.id);
      if (!user) throw new ApiError("not_found");
      authorize(actor, canSeeUser, user);
      return { json: presentAdminUser(user, services.now()) };
    },
  }),
  defineRoute({
    method: "patch",
    path: "/api/admin/users/:id",
    summary:
      "Move a person into a team ({teamId}) or out of their team ({teamId: null}), audited as user.team_changed; partner admins: their partner group's agents, between its teams only. Tenant admins also change a person's partner group ({partnerId}, null: in-house; without teamId it takes them out of their team), audited as user.partner_changed. The team must be of the person's group (409 team_group_mismatch); a role scoped to their current group or its teams is taken away first (409 role_scoped_to_group), as is one scoped outside the new group (409 role_scope_outside_group)",
    tag: "admin",
    access: { kind: "permission", permission: "users.read" },
    params: idParam,
    body: updateUserBody,
    response: adminUser,
    handler: async ({ actor, services, ip, params, body }) => ({
      json: presentAdminUser(await moveUser(services, actor, ip, params.id, body), services.now()),
    }),
  }),
  defineRoute({
    method: "post",
    path: "/api/admin/users/:id/disable",
    summary: "Disable a user and end their sessions (not yourself, not the last tenant admin)",
    tag: "admin",
    access: { kind: "permission", permission: "users.read" },
    params: idParam,
    response: adminUser,
    handler: async ({ actor, services, ip, params }) => ({
      json: presentAdminUser(await setUserDisabled(services, actor, ip, params.id, true), services.now()),
    }),
  }),
  defineRoute({
    method: "post",
    path: "/api/admin/users/:id/enable",
    summary: "Enable a disabled user again",
    tag: "admin",
    access: { kind: "permission", permission: "users.read" },
    params: idParam,
    response: adminUser,
    handler: async ({ actor, services, ip, params }) => ({
      json: presentAdminUser(await setUserDisabled(services, actor, ip, params.id, false), services.now()),
    }),
  }),
  defineRoute({
    method: "delete",
    path: "/api/admin/users/:id/smtp-passwords",
    summary: "Revoke all of a user's SMTP passwords (a lost or leaked device), without disabling them",
    tag: "admin",
    access: { kind: "permission", permission: "users.read" },
    params: idParam,
    response: adminUser,
    handler: async ({ actor, services, ip, params }) => ({
      json: presentAdminUser(await revokeUserSmtpPasswords(services, actor, ip, params.id), services.now()),
    }),
  }),
  defineRoute({
    method: "delete",
    path: "/api/admin/users/:id/totp",
    summary:
      "Remove a user's authenticator app and recovery codes (a lost phone) and end their sessions; they enrol a new one at their next sign-in",
    tag: "admin",
    access: { kind: "permission", permission: "users.read" },
    params: idParam,
    response: adminUser,
    handler: async ({ actor, services, ip, params }) => ({
      json: presentAdminUser(await resetUserTotp(services, actor, ip, params.id), services.now()),
    }),
  }),
  defineRoute({
    method: "post",
    path: "/api/admin/users/:id/roles",
    summary:
      "Give a role within your reach (partner admins: only agent). scopeId: the team a team_lead leads, or the partner group a partner_admin administers (default the person's own); it must be of the person's own group (an in-house person's: an in-house team; in-house staff may administer whichever partner group is named), else 409 role_scope_outside_group; an in-house person's partner_admin needs its scopeId (400 role_scope_required)",
    tag: "admin",
    access: { kind: "permission", permission: "users.read" },
    params: idParam,
    body: assignRoleBody,
    response: adminUser,
    handler: async ({ actor, services, ip, params, body }) => ({
      json: presentAdminUser(
        await assignRole(services, actor, ip, params.id, { role: body.role, scopeId: body.scopeId }),
        services.now(),
      ),
    }),
  }),
  defineRoute({
    method: "delete",
    path: "/api/admin/users/:id/roles/:role",
    summary: "Take a role away (the last active tenant admin keeps theirs)",
    tag: "admin",
    access: { kind: "permission", permission: "users.read" },
    params: userRoleParams,
    response: adminUser,
    handler: async ({ actor, services, ip, params }) => ({
      json: presentAdminUser(await removeRole(services, actor, ip, params.id, params.role), services.now()),
    }),
  }),
  defineRoute({
    method: "post",
    path: "/api/admin/users/:id/grants",
    summary:
      "Grant reading others' mail (archive.read_any / held.read_any) on purpose, with a reason; never to yourself",
    tag: "admin",
    access: { kind: "permission", permission: "users.manage" },
    params: idParam,
    body: grantPermissionBody,
    response: adminUser,
    handler: async ({ actor, services, ip, params, body }) => ({
      json: presentAdminUser(await grantPermission(services, actor, ip, params.id, body), services.now()),
    }),
  }),
  defineRoute({
    method: "delete",
    path: "/api/admin/users/:id/grants/:permission",
    summary: "Withdraw a granted permission",
    tag: "admin",
    access: { kind: "permission", permission: "users.manage" },
    params: userGrantParams,
    response: adminUser,
    handler: async ({ actor, services, ip, params }) => ({
      json: presentAdminUser(
        await revokePermission(services, actor, ip, params.id, params.permission),
        services.now(),
      ),
    }),
  }),
];
