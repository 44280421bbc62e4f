import type { Request, Response, Router } from "express";
import type { Services } from "../context";
import { ANONYMOUS, type RouteSpec } from "./route-table";
import { resolveActor, clientIp, type BearerVerifier } from "./authenticate";
import { ApiError, answerErrorsAsHtml } from "./errors";
import { validate } from "./validate";
import { BODY_LIMITS, jsonBody } from "./body-limit";

/** On a route that answers HTML, a browser navigating to it (a frame, a window) gets its errors as a page. */
function markHtml(req: Request, res: Response, next: () => void): void {
  if (req.accepts(["json", "html"]) === "html") answerErrorsAsHtml(res);
  next();
}

/**
 * Mounts route specs on a router: JSON body (within the route's limit) → validate → authenticate → coarse access
 * check → handler (which runs its policy and command) → JSON.
 */
export function mountRoutes(
  router: Router,
  routes: readonly RouteSpec[],
  services: Services,
  verifyBearer: BearerVerifier | null,
): void {
  for (const route of routes) {
    const validators = [
      ...(route.produces === "text/html" ? [markHtml] : []),
      jsonBody(route.bodyLimit ?? BODY_LIMITS.default),
      ...(route.params ? [validate("params", route.params)] : []),
      ...(route.query ? [validate("query", route.query)] : []),
      ...(route.body ? [validate("body", route.body)] : []),
    ];
    router[route.method](route.path, ...validators, async (req: Request, res: Response) => {
      const started = process.hrtime.bigint();
      const params: unknown = res.locals.params ?? req.params;
      const query: unknown = res.locals.query ?? {};
      const actor =
        route.access.kind === "public"
          ? ANONYMOUS
          : ((await route.authenticateBy?.({ params, query, services })) ??
            (await resolveActor(req, services, verifyBearer, !route.csrfExempt)));
      if (actor.restriction && !route.allowRestricted) throw new ApiError("mfa_enrolment_required");
      if (route.access.kind === "permission" && !actor.permissions.has(route.access.permission)) {
        throw new ApiError("forbidden");
      }
      const result = await route.handler({
        body: res.locals.body,
        query,
        params,
        actor,
        services,
        ip: clientIp(req),
        req,
        res,
      });
      if (result && !res.headersSent) {
        if ("status" in result) res.status(result.status).json(result.body);
        else res.json(result.json);
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      services.metrics.httpDuration.observe({ method: route.method, route: route.path }, seconds);
    });
  }
}
