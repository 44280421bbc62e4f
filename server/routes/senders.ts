import { idParam } from "../../shared/schemas/common";
import {
  createSenderRuleRequest,
  createSenderRuleResult,
  senderImportBody,
  senderImportResult,
  senderListQuery,
  senderRuleList,
  type SenderScope,
} from "../../shared/schemas/senders";
import type { Permission } from "../../shared/permissions";
import { createSenderRule } from "../commands/senders/create-rule";
import { deleteSenderRule } from "../commands/senders/delete-rule";
import { importSenderRules } from "../commands/senders/import-rules";
import { allSenderRules, listSenderRules } from "../commands/senders/list-rules";
import { senderRulesToCsv } from "../commands/senders/csv";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { BODY_LIMITS } from "../http/body-limit";
import { presentSenderRule } from "../presenters/senders";

/** The five sender-list routes for one list: a person's own (`user`) or the organisation's (`tenant`). */
export function senderListRoutes(
  base: string,
  scope: SenderScope,
  permission: Permission,
  tag: string,
): RouteSpec[] {
  const whose = scope === "user" ? "your own" : "the organisation's";
  return [
    defineRoute({
      method: "get",
      path: base,
      summary: `List ${whose} sender rules in force (block and permit), newest first`,
      tag,
      access: { kind: "permission", permission },
      query: senderListQuery,
      response: senderRuleList,
      handler: async ({ query, actor, services }) => {
        const page = await listSenderRules(services.db, actor, { scope, ...query }, services.now());
        return { json: { items: page.rows.map(presentSenderRule), nextCursor: page.nextCursor } };
      },
    }),
    defineRoute({
      method: "post",
      path: base,
      summary: `Add a block or permit rule to ${whose} list (201 created; 200 when the same rule exists)`,
      tag,
      access: { kind: "permission", permission },
      body: createSenderRuleRequest,
      response: createSenderRuleResult,
      handler: async ({ body, actor, services, ip }) => {
        const result = await createSenderRule(services, actor, ip, { scope, ...body });
        return { status: result.outcome === "created" ? 201 : 200, body: presentSenderRule(result.rule) };
      },
    }),
    defineRoute({
      method: "delete",
      path: `${base}/:id`,
      summary: `Remove a rule from ${whose} list (204)`,
      tag,
      access: { kind: "permission", permission },
      params: idParam,
      handler: async ({ params, actor, services, ip, res }) => {
        await deleteSenderRule(services, actor, ip, { id: params.id, scope });
        res.status(204).end();
      },
    }),
    defineRoute({
      method: "get",
      path: `${base}/export`,
      summary: `Export ${whose} list as CSV (pattern,kind,expires_at)`,
      tag,
      access: { kind: "permission", permission },
      produces: "text/csv",
      handler: async ({ actor, services, res }) => {
        const rows = await allSenderRules(services.db, actor, scope, services.now());
        res.setHeader("content-type", "text/csv; charset=utf-8");
        res.setHeader(
          "content-disposition",
          `attachment; filename="${scope === "user" ? "my-senders" : "org-senders"}.csv"`,
        );
        res.send(senderRulesToCsv(rows));
      },
    }),
    defineRoute({
      method: "post",
      path: `${base}/import`,
      summary: `Import rules into ${whose} list from CSV; bad lines are reported and skipped`,
      tag,
      access: { kind: "permission", permission },
      body: senderImportBody,
      bodyLimit: BODY_LIMITS.senderImport,
      response: senderImportResult,
      handler: async ({ body, actor, services, ip }) => ({
        json: await importSenderRules(services, actor, ip, { scope, csv: body.csv }),
      }),
    }),
  ];
}

/** A person's own block and permit list (DESIGN §4 "sender lists"). */
export const senderRoutes: RouteSpec[] = senderListRoutes(
  "/api/senders",
  "user",
  "senders.manage_own",
  "senders",
);
