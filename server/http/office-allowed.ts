import { Router } from "express";
import type { Services } from "../context";

/** Where Office looks for the add-in scripts an origin allows to use SSO or CORS from its separate runtime. */
export const OFFICE_ALLOWED_PATH = "/.well-known/microsoft-officeaddins-allowed.json";

/**
 * Serves the origin's list of add-in scripts allowed to use SSO or CORS ("Use SSO or CORS in your event-based or
 * spam-reporting Outlook add-in"): classic Outlook on Windows runs the integrated Report button's handler from
 * commands.js in a JavaScript-only runtime, and without this file its calls to the Mailward API are refused.
 */
export function officeAllowedRouter(services: Services): Router {
  const router = Router();
  const origin = new URL(services.config.MAILWARD_PUBLIC_URL).origin;
  router.get(OFFICE_ALLOWED_PATH, (_req, res) => {
    res.json({ allowed: [`${origin}/commands.js`] });
  });
  return router;
}
