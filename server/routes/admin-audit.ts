import { auditList, auditQuery, auditVerification } from "../../shared/schemas/admin";
import { exportAuditCsv, listAuditEvents, verifyTenantAudit } from "../commands/admin/audit";
import { ApiError } from "../http/errors";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { presentAuditEvent } from "../presenters/audit";

/** The audit log of the caller's tenant: list, CSV export (itself audited) and chain verification. */
export const adminAuditRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/admin/audit",
    summary:
      "Audit events, newest first, filtered by actor, action (or prefix*), target and time; format=csv exports (audit.export, audited)",
    tag: "admin",
    access: { kind: "permission", permission: "audit.read" },
    query: auditQuery,
    response: auditList,
    produces: "text/csv",
    handler: async ({ actor, services, ip, query, res }) => {
      if (query.format === "csv") {
        if (!actor.permissions.has("audit.export"))
          throw new ApiError("forbidden", "Exporting the audit log needs the audit.export permission.");
        const { csv } = await exportAuditCsv(services, actor, ip, query);
        const stamp = services.now().toISOString().replace(/[:.]/g, "-");
        res.status(200).type("text/csv; charset=utf-8").attachment(`audit-${stamp}.csv`).send(csv);
        return;
      }
      const page = await listAuditEvents(services.db, actor.tenantId, query);
      return { json: { items: page.items.map(presentAuditEvent), nextCursor: page.nextCursor } };
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/admin/audit/verify",
    summary: "Recompute the tenant's audit hash chain and report the first broken link, if any",
    tag: "admin",
    access: { kind: "permission", permission: "audit.read" },
    response: auditVerification,
    handler: async ({ actor, services }) => ({ json: await verifyTenantAudit(services.db, actor.tenantId) }),
  }),
];
