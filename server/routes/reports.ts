import { idParam } from "../../shared/schemas/common";
import { createReportBody, reportList, reportListQuery, reportResult } from "../../shared/schemas/reports";
import { createReport } from "../commands/reports/create-report";
import { listOwnReports } from "../commands/reports/list-reports";
import { undoReport } from "../commands/reports/undo-report";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { BODY_LIMITS } from "../http/body-limit";
import { presentReport } from "../presenters/reports";

/** Phish/spam/not-spam reports by the people who received the mail, with a 10-minute undo. */
export const reportRoutes: RouteSpec[] = [
  defineRoute({
    method: "post",
    path: "/api/reports",
    summary:
      "Report a message as phish, spam or not spam (by Message-ID in your archive, or as an attached EML); 201, or 200 when you already reported it",
    tag: "reports",
    access: { kind: "permission", permission: "reports.create" },
    body: createReportBody,
    bodyLimit: BODY_LIMITS.report,
    response: reportResult,
    handler: async ({ body, actor, services, ip }) => {
      const result = await createReport(services, actor, ip, body);
      return { status: result.created ? 201 : 200, body: presentReport(result.report, result.messageFound) };
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/reports",
    summary: "Your own reports and what the security team concluded",
    tag: "reports",
    access: { kind: "permission", permission: "reports.create" },
    query: reportListQuery,
    response: reportList,
    handler: async ({ query, actor, services }) => {
      const page = await listOwnReports(services.db, actor, query);
      return { json: { items: page.rows.map((r) => presentReport(r)), nextCursor: page.nextCursor } };
    },
  }),
  ...(["post", "delete"] as const).map((method) =>
    defineRoute({
      method,
      path: method === "post" ? "/api/reports/:id/undo" : "/api/reports/:id",
      summary: "Take a report back within 10 minutes (204; afterwards 410 expired)",
      tag: "reports",
      access: { kind: "permission", permission: "reports.create" },
      params: idParam,
      handler: async ({ params, actor, services, ip, res }) => {
        await undoReport(services, actor, ip, params.id);
        res.status(204).end();
      },
    }),
  ),
];
