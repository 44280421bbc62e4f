import fs from "node:fs";
import type { ServerResponse } from "node:http";
import path from "node:path";
import { Router, type Request, type Response } from "express";
import expressStaticGzip from "express-static-gzip";

/** A year: what a file whose name carries its content hash may be kept for (a new build gives it a new name). */
const IMMUTABLE = "public, max-age=31536000, immutable";

/** Names webpack gives by content (`[name].[contenthash:8].js`, `chunks/…`), possibly with a precompressed suffix. */
const CONTENT_HASHED = /\.[0-9a-f]{8}\.(?:js|css)(?:\.br|\.gz)?$/;

/**
 * How long a browser (Outlook's, a proxy's) may keep one of the add-in's files without asking again. Files named by
 * their content are kept for a year; the pages, commands.js (the manifest names it), the manifest and the icons are
 * checked at every load (`no-cache`: a 304 when unchanged), so an upgrade reaches every task pane at its next opening
 * instead of leaving a page that names chunks the new build no longer has.
 */
export function cacheControlFor(filePath: string): string {
  return CONTENT_HASHED.test(filePath) ? IMMUTABLE : "no-cache";
}

/**
 * Serves the built add-in and portal (webpack's dist/): each file as the build precompressed it (`.br`, else `.gz`,
 * as the browser accepts; `Vary: Accept-Encoding`), else as it is, with cacheControlFor's lifetime; the portal's
 * page at `/`, `/portal` and every `/portal/…` path (the portal routes in the page).
 */
export function addinFilesRouter(staticDir: string): Router {
  const files = expressStaticGzip(staticDir, {
    enableBrotli: true,
    orderPreference: ["br", "gzip"],
    index: false,
    serveStatic: {
      index: false,
      setHeaders: (res: ServerResponse, filePath: string) => {
        res.setHeader("Cache-Control", cacheControlFor(filePath));
      },
    },
  });
  const router = Router();
  router.use(files);
  const portal = path.join(staticDir, "portal.html");
  router.get(["/", "/portal", "/portal/*rest"], (req: Request, res: Response, next) => {
    if (!fs.existsSync(portal)) return next();
    req.url = "/portal.html";
    files(req, res, next);
  });
  return router;
}
