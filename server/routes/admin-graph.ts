import { graphStatus, setTenantModeBody } from "../../shared/schemas/graph";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { graphStatusOf, setTenantMode } from "../commands/graph/mode";

/** The tenant's Microsoft Graph connector: status, and the gateway | graph | both switch (issue 8). */
export const adminGraphRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/admin/graph",
    summary: "Graph connector status: tenant mode, watched mailboxes, subscriptions and backlog",
    tag: "admin",
    access: { kind: "permission", permission: "policies.read" },
    response: graphStatus,
    handler: async ({ actor, services }) => ({ json: await graphStatusOf(services, actor) }),
  }),
  defineRoute({
    method: "put",
    path: "/api/admin/graph/mode",
    summary: "Switch the tenant between gateway, Graph and both modes (audited)",
    tag: "admin",
    access: { kind: "permission", permission: "policies.manage" },
    body: setTenantModeBody,
    response: setTenantModeBody,
    handler: async ({ body, actor, services, ip }) => ({
      json: { mode: await setTenantMode(services, actor, ip, body.mode) },
    }),
  }),
];
