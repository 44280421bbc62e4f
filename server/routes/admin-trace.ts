import { traceList, traceQuery } from "../../shared/schemas/trace";
import { traceMessages } from "../commands/admin/trace";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { traceShowsSubjects } from "../policies/trace";
import { presentTracedMessage } from "../presenters/trace";

/** Message trace for administrators: what became of a message, per recipient. */
export const adminTraceRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/admin/trace",
    summary:
      "Message trace, newest first: envelope, client, verdict, held item and next-hop delivery per recipient, by sender, recipient, Message-ID and time (a week by default); subjects only with archive.read_any",
    tag: "admin",
    access: { kind: "permission", permission: "mail.trace" },
    query: traceQuery,
    response: traceList,
    handler: async ({ actor, services, query }) => {
      const page = await traceMessages(
        services.db,
        actor.tenantId,
        query,
        services.now(),
        services.config.MAILWARD_SUSPECT_SCORE,
      );
      const showSubject = traceShowsSubjects(actor);
      return {
        json: {
          items: page.items.map((m) => presentTracedMessage(m, showSubject)),
          nextCursor: page.nextCursor,
        },
      };
    },
  }),
];
