import fs from "node:fs";
import path from "node:path";
import express, { Router, type Express } from "express";
import helmet from "helmet";
import type { Services } from "./context";
import { apiRouteNotFound, errorHandler } from "./http/errors";
import { mountRoutes } from "./http/mount";
import { buildOpenApi } from "./http/openapi";
import type { BearerVerifier } from "./http/authenticate";
import type { RouteSpec } from "./http/route-table";
import { healthRouter } from "./routes/health";
import { apiRoutes } from "./routes/index";
import { officeAllowedRouter } from "./http/office-allowed";
import { OFFICE_FRAME_ANCESTORS } from "./http/frame-ancestors";
import { addinFilesRouter } from "./http/static-files";
import { closeWhenBodyUnread } from "./http/body-limit";

/** Options for building the HTTP app; tests pass their own routes or verifier. */
export interface AppOptions {
  routes?: readonly RouteSpec[];
  verifyBearer?: BearerVerifier | null;
  /** Folder with the built add-in and portal (webpack output). */
  staticDir?: string;
  /** Extra routers (webhooks, signed links) mounted before the API 404. */
  extraRouters?: Router[];
}

/** Builds the Express app: health, API, add-in/portal files, one error shape. */
export function createApp(services: Services, options: AppOptions = {}): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(closeWhenBodyUnread);
  if (services.config.MAILWARD_TRUST_PROXY) app.set("trust proxy", services.config.MAILWARD_TRUST_PROXY);
  app.use(
    helmet({
      frameguard: false, // Outlook frames the task pane; frame-ancestors below restricts who may
      contentSecurityPolicy: {
        directives: {
          "default-src": ["'self'"],
          "script-src": ["'self'", "https://appsforoffice.microsoft.com"],
          "style-src": ["'self'", "'unsafe-inline'"],
          "img-src": ["'self'", "data:", "blob:"],
          "connect-src": ["'self'", "https://login.microsoftonline.com"],
          "frame-src": ["'self'", "https://login.microsoftonline.com"],
          "frame-ancestors": [...OFFICE_FRAME_ANCESTORS],
          "form-action": ["'self'"],
          "object-src": ["'none'"],
          "base-uri": ["'none'"],
        },
      },
    }),
  );
  app.use((req, res, next) => {
    res.on("finish", () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? "unmatched";
      services.metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
    });
    next();
  });
  app.use(healthRouter(services));
  app.use(officeAllowedRouter(services));
  // API answers carry people's mail and account data: no browser or proxy keeps them (a shared computer's cache, a
  // corporate proxy). A route that serves something cacheable may say so itself.
  app.use("/api", (_req, res, next) => {
    res.setHeader("Cache-Control", "no-store");
    next();
  });

  const routes = options.routes ?? apiRoutes;
  const api = Router();
  api.get("/api/openapi.json", (_req, res) => {
    res.json(buildOpenApi(routes, "0.1.0"));
  });
  mountRoutes(api, routes, services, options.verifyBearer ?? null);
  app.use(api);
  for (const router of options.extraRouters ?? []) app.use(router);
  app.use("/api", apiRouteNotFound);

  const staticDir = options.staticDir ?? path.resolve("dist");
  if (fs.existsSync(staticDir)) app.use(addinFilesRouter(staticDir));
  app.use(apiRouteNotFound);
  app.use(errorHandler(services.logger));
  return app;
}
