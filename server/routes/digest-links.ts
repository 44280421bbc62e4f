import { Router, type Request, type Response } from "express";
import { securityPhraseBody } from "../../shared/schemas/me";
import type { Services } from "../context";
import { followLink, inspectLink } from "../commands/digest/follow-link";
import { setSecurityPhrase } from "../commands/digest/set-security-phrase";
import { clientIp } from "../http/authenticate";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { renderLinkPage, type LinkPage } from "../mail/digest/pages";

function send(res: Response, page: LinkPage): void {
  res.status(page.status);
  res.setHeader("content-type", "text/html; charset=utf-8");
  res.setHeader("cache-control", "no-store");
  res.setHeader("referrer-policy", "no-referrer");
  res.setHeader("x-robots-tag", "noindex");
  res.send(page.html);
}

function tokenOf(req: Request): string {
  const value = req.params.token;
  return typeof value === "string" ? value.slice(0, 200) : "";
}

/**
 * The signed digest links (no sign-in: the signature is the credential for one
 * action on one item). GET shows a confirmation page and never acts, so mail
 * scanners that prefetch links cannot release anything or use the link up;
 * the button POSTs and acts once. Every outcome is an HTML page.
 */
export function digestLinkRouter(services: Services): Router {
  const router = Router();
  router.get("/d/:token", async (req, res) => {
    const token = tokenOf(req);
    try {
      send(res, renderLinkPage(await inspectLink(services, token), token));
    } catch (err) {
      services.logger.error({ err }, "digest link page failed");
      send(res, renderLinkPage({ page: "failed" }, token));
    }
  });
  router.post("/d/:token", async (req, res) => {
    const token = tokenOf(req);
    try {
      send(res, renderLinkPage(await followLink(services, token, clientIp(req)), token));
    } catch (err) {
      services.logger.error({ err }, "digest link action failed");
      send(res, renderLinkPage({ page: "failed" }, token));
    }
  });
  return router;
}

/** The digest settings a person controls: their security phrase. */
export const digestRoutes: RouteSpec[] = [
  defineRoute({
    method: "put",
    path: "/api/me/security-phrase",
    summary: "Set your security phrase, shown in every digest so a fake quarantine notice stands out (204)",
    tag: "me",
    access: { kind: "signed_in" },
    body: securityPhraseBody,
    handler: async ({ body, actor, services, ip, res }) => {
      await setSecurityPhrase(services, actor, ip, body.phrase);
      res.status(204).end();
    },
  }),
];
