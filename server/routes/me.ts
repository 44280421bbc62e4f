import { z } from "zod";
import { meSettings } from "../../shared/schemas/me";
import { messageVerdict } from "../../shared/schemas/archive";
import { readMySettings } from "../commands/me/read-settings";
import { lookupVerdict } from "../commands/archive/lookup-verdict";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { presentVerdict } from "../presenters/verdict";

/** The add-in's per-person reads: own settings, and the verdict of the message open in Outlook. */
export const meRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/me/settings",
    summary: "Your own settings: sign-in method, digest security phrase, TOTP",
    tag: "auth",
    access: { kind: "signed_in" },
    response: meSettings,
    handler: async ({ actor, services }) => ({ json: await readMySettings(services.db, actor) }),
  }),
  defineRoute({
    method: "get",
    path: "/api/archive/lookup",
    summary: "How Mailward scanned a message in your mailbox, found by its Internet Message-ID",
    tag: "archive",
    access: { kind: "permission", permission: "archive.read_own" },
    query: z.object({ messageId: z.string().min(3).max(998) }),
    response: messageVerdict,
    handler: async ({ query, actor, services }) => ({
      json: presentVerdict(await lookupVerdict(services.db, actor, query.messageId), actor),
    }),
  }),
];
