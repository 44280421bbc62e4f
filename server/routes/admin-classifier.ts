import { classifierStatus } from "../../shared/schemas/classifier";
import { classifierStatus as readClassifierStatus } from "../commands/admin/classifier-status";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { presentClassifierStatus } from "../presenters/classifier";

/** The content classifier for administrators: whether content counts in verdicts yet, and what taught it. */
export const adminClassifierRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/admin/classifier",
    summary:
      "What the content classifier has learnt: messages per class, tokens and their limit, whether it is active, and what taught it (reports and releases, labelled mail)",
    tag: "admin",
    access: { kind: "permission", permission: "policies.read" },
    response: classifierStatus,
    handler: async ({ actor, services }) => ({
      json: presentClassifierStatus(
        await readClassifierStatus(services.db, actor.tenantId),
        services.config.MAILWARD_CLASSIFIER_MAX_TOKENS,
      ),
    }),
  }),
];
