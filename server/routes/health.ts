import { Router } from "express";
import type { Services } from "../context";
import { isDatabaseReachable } from "../db/connection";
import { isMigrated } from "../db/migrate";

/** Liveness, readiness and Prometheus metrics (outside /api, no auth: bind or firewall as needed). */
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
  router.get("/metrics", async (_req, res) => {
    res.type(services.metrics.registry.contentType).send(await services.metrics.registry.metrics());
  });
  return router;
}
