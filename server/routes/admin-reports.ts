import { idParam } from "../../shared/schemas/common";
import { triageDecisionBody, triageItem, triageList, triageListQuery } from "../../shared/schemas/reports";
import { listTriageQueue, loadTriageGroup } from "../commands/reports/list-reports";
import { triageReport } from "../commands/reports/triage-report";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { presentTriageGroup } from "../presenters/reports";

/** The security team's triage queue of reported messages (duplicates merged). */
export const adminReportRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/admin/reports",
    summary: "Reported messages awaiting triage (one entry per message, with every reporter)",
    tag: "admin-reports",
    access: { kind: "permission", permission: "reports.triage" },
    query: triageListQuery,
    response: triageList,
    handler: async ({ query, actor, services }) => {
      const page = await listTriageQueue(services.db, actor, query);
      return { json: { items: page.groups.map(presentTriageGroup), nextCursor: page.nextCursor } };
    },
  }),
  ...(["confirm", "dismiss"] as const).map((verb) =>
    defineRoute({
      method: "post",
      path: `/api/admin/reports/:id/${verb}`,
      summary:
        verb === "confirm"
          ? "Confirm a report: every reporter is told, the classifier learns, optionally block the sender org-wide"
          : "Dismiss a report: every reporter is told it was judged safe",
      tag: "admin-reports",
      access: { kind: "permission", permission: "reports.triage" },
      params: idParam,
      body: triageDecisionBody,
      response: triageItem,
      handler: async ({ params, body, actor, services, ip }) => {
        const leader = await triageReport(services, actor, ip, {
          id: params.id,
          decision: verb === "confirm" ? "confirmed" : "dismissed",
          outcome: body.outcome,
          blockSender: body.blockSender,
        });
        const group = (await loadTriageGroup(services.db, actor.tenantId, leader.id)) ?? {
          leader,
          members: [],
          message: null,
        };
        return { json: presentTriageGroup(group) };
      },
    }),
  ),
];
