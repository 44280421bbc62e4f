import { Router, type Request } from "express";
import { sameText } from "../auth/same-text";
import type { Services } from "../context";
import { isDatabaseReachable } from "../db/connection";
import { isMigrated } from "../db/migrate";

/** True when the request carries the metrics token (compared in constant time), or when none is set. */
function mayReadMetrics(req: Request, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = /^Bearer (.+)$/.exec(req.get("authorization") ?? "")?.[1] ?? "";
  return sameText(given, token);
}

/**
 * Liveness, readiness and Prometheus metrics (outside /api). Health needs no sign-in; metrics, which show the mail
 * volume and queue of every organisation, need `MAILWARD_METRICS_TOKEN` when it is set (else bind or firewall).
 */
export function healthRouter(services: Services): Router {
  const router = Router();
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req, res) => {
    const database = await isDatabaseReachable(services.db);
    const migrations = database && (await isMigrated(services.db));
    const checks: Record<string, boolean> = { database, migrations };
    for (const [name, probe] of services.readiness) checks[name] = probe();
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ status: ready ? "ready" : "not_ready", checks });
  });
  router.get("/metrics", async (req, res) => {
    if (!mayReadMetrics(req, services.config.MAILWARD_METRICS_TOKEN)) {
      res
        .status(401)
        .set("WWW-Authenticate", 'Bearer realm="metrics"')
        .type("text/plain")
        .send("A bearer token is required.\n");
      return;
    }
    res.type(services.metrics.registry.contentType).send(await services.metrics.registry.metrics());
  });
  return router;
}
