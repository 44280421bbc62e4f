import {
  createTeamBody,
  groupListQuery,
  partnerGroup,
  partnerGroupBody,
  partnerGroupList,
  team,
  teamList,
  updateTeamBody,
} from "../../shared/schemas/organisation";
import { idParam } from "../../shared/schemas/common";
import { createPartner, deletePartner, renamePartner } from "../commands/organisation/partners";
import { listPartnersPage, listTeamsPage } from "../commands/organisation/queries";
import { createTeam, deleteTeam, updateTeam } from "../commands/organisation/teams";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { userReach } from "../policies/users";
import { presentPartner, presentTeam } from "../presenters/organisation";

/**
 * /api/admin/partners and /api/admin/teams: the groups people are placed in. Tenant admins manage both; partner
 * admins see their own partner group and manage its teams only (policies/organisation.ts).
 */
export const adminOrganisationRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/admin/partners",
    summary:
      "The BPO partner groups within your reach (tenant admins: all; partner admins: their own), with their people and teams counted; by name, cursor-paged (limit ≤ 200, default 50), q: the name contains it",
    tag: "admin",
    access: { kind: "permission", permission: "users.read" },
    query: groupListQuery,
    response: partnerGroupList,
    handler: async ({ actor, services, query }) => {
      const page = await listPartnersPage(services.db, actor.tenantId, userReach(actor), query);
      return { json: { items: page.items.map(presentPartner), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/admin/partners",
    summary:
      "Create a partner group (tenant admins; audited as partner.created; a name the organisation has already, whatever its case: 409 already_exists)",
    tag: "admin",
    access: { kind: "permission", permission: "users.manage" },
    body: partnerGroupBody,
    response: partnerGroup,
    handler: async ({ actor, services, ip, body }) => ({
      status: 201,
      body: presentPartner(await createPartner(services, actor, ip, body.name)),
    }),
  }),
  defineRoute({
    method: "patch",
    path: "/api/admin/partners/:id",
    summary: "Rename a partner group (tenant admins; audited as partner.renamed)",
    tag: "admin",
    access: { kind: "permission", permission: "users.manage" },
    params: idParam,
    body: partnerGroupBody,
    response: partnerGroup,
    handler: async ({ actor, services, ip, params, body }) => ({
      json: presentPartner(await renamePartner(services, actor, ip, params.id, body.name)),
    }),
  }),
  defineRoute({
    method: "delete",
    path: "/api/admin/partners/:id",
    summary:
      "Delete a partner group (204; tenant admins; audited as partner.deleted); 409 partner_not_empty while people, teams or a partner admin's role belong to it",
    tag: "admin",
    access: { kind: "permission", permission: "users.manage" },
    params: idParam,
    handler: async ({ actor, services, ip, params, res }) => {
      await deletePartner(services, actor, ip, params.id);
      res.status(204).end();
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/admin/teams",
    summary:
      "The teams within your reach (tenant admins: all; partner admins: their partner group's), with partner group, member count and leads; by name, cursor-paged (limit ≤ 200, default 50), q: the name contains it",
    tag: "admin",
    access: { kind: "permission", permission: "users.read" },
    query: groupListQuery,
    response: teamList,
    handler: async ({ actor, services, query }) => {
      const page = await listTeamsPage(services.db, actor.tenantId, userReach(actor), query);
      return { json: { items: page.items.map(presentTeam), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/admin/teams",
    summary:
      "Create a team: in-house or in a partner group (tenant admins), or in your own partner group (partner admins; elsewhere: 403). Audited as team.created; a name taken: 409 already_exists",
    tag: "admin",
    access: { kind: "permission", permission: "users.read" },
    body: createTeamBody,
    response: team,
    handler: async ({ actor, services, ip, body }) => ({
      status: 201,
      body: presentTeam(await createTeam(services, actor, ip, body)),
    }),
  }),
  defineRoute({
    method: "patch",
    path: "/api/admin/teams/:id",
    summary:
      "Rename a team within your reach (audited as team.renamed); tenant admins only: move it with its people to another partner group or in-house (partnerId, null: in-house; audited as team.moved and user.partner_changed per person). 409 role_scoped_to_group while someone in it holds a role tied to the group they would leave (a partner admin of it, a lead of another of its teams), 409 role_scope_outside_group when a lead from outside the team is of another group than the new one, 400 for a partner group the organisation does not have",
    tag: "admin",
    access: { kind: "permission", permission: "users.read" },
    params: idParam,
    body: updateTeamBody,
    response: team,
    handler: async ({ actor, services, ip, params, body }) => ({
      json: presentTeam(await updateTeam(services, actor, ip, params.id, body)),
    }),
  }),
  defineRoute({
    method: "delete",
    path: "/api/admin/teams/:id",
    summary:
      "Delete a team within your reach (204; audited as team.deleted); 409 team_not_empty while people are in it or a team lead's role names it",
    tag: "admin",
    access: { kind: "permission", permission: "users.read" },
    params: idParam,
    handler: async ({ actor, services, ip, params, res }) => {
      await deleteTeam(services, actor, ip, params.id);
      res.status(204).end();
    },
  }),
];
