import { idParam } from "../../shared/schemas/common";
import {
  heldActionBody,
  heldActionResult,
  heldBulkBody,
  heldBulkResult,
  heldCount,
  heldCountQuery,
  heldDetail,
  heldDetailQuery,
  heldList,
  heldPreviewQuery,
  heldListQuery,
  releaseDecisionBody,
  releaseRequestCountQuery,
  releaseRequestList,
  releaseRequestQuery,
  HELD_ACTIONS,
  HELD_COUNT_CAP,
  type HeldAction,
} from "../../shared/schemas/held";
import { actOnHeld, actOnHeldBulk } from "../commands/held/act";
import { decideReleaseRequest } from "../commands/held/decide-request";
import { countHeld, listHeld } from "../commands/held/list-held";
import { countReleaseRequests, listReleaseRequests } from "../commands/held/list-requests";
import { viewHeldItem } from "../commands/held/view-held";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { presentHeldDetail, presentHeldItem, presentSignals } from "../presenters/held";
import { buildPreviewDocument, previewResponseHeaders } from "../preview/index";
import { byPreviewTicket, previewUrlFor } from "../preview/tickets";

const SUMMARY: Record<HeldAction, string> = {
  release:
    "Release a held message to its recipient (delivered exactly once; phish/malware or an organisation block: 403 release_not_allowed)",
  "release-and-permit":
    "Release and add the sender to your permit list (auto-permit, expires after 120 days by default)",
  block: "Delete a held message and add its sender to your block list",
  delete: "Delete a held message (the archive copy stays)",
  "request-release": "Ask a security admin to release a phish/malware hold or an organisation block",
};

const actionRoutes: RouteSpec[] = HELD_ACTIONS.map((action) =>
  defineRoute({
    method: "post",
    path: `/api/held/:id/${action}`,
    summary: SUMMARY[action],
    tag: "held",
    access: { kind: "permission", permission: "held.act_own" },
    params: idParam,
    body: heldActionBody,
    response: heldActionResult,
    handler: async ({ params, body, actor, services, ip }) => {
      const row = await actOnHeld(services, actor, ip, { id: params.id, action, note: body.note });
      return { json: presentHeldItem(row, actor, services.now()) };
    },
  }),
);

/** Held (quarantined) messages: list, detail with safe preview, actions, bulk, and release-request review. */
export const heldRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/held",
    summary: "List held messages you may see (yours; a team lead's team), filtered, sorted and keyset-paged",
    tag: "held",
    access: { kind: "permission", permission: "held.read_own" },
    query: heldListQuery,
    response: heldList,
    handler: async ({ query, actor, services }) => {
      const now = services.now();
      const page = await listHeld(services.db, actor, query, now);
      return {
        json: {
          items: page.rows.map((row) => presentHeldItem(row, actor, now)),
          nextCursor: page.nextCursor,
        },
      };
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/held/count",
    summary: `How many held messages the list would show you with these filters, up to ${HELD_COUNT_CAP} (more: true past it): the Held tab's badge, without the messages`,
    tag: "held",
    access: { kind: "permission", permission: "held.read_own" },
    query: heldCountQuery,
    response: heldCount,
    handler: async ({ query, actor, services }) => ({
      json: await countHeld(services.db, actor, query, services.now(), HELD_COUNT_CAP),
    }),
  }),
  defineRoute({
    method: "get",
    path: "/api/held/:id",
    summary:
      "A held message: signals in plain words, headers, authentication results, attachments, safe preview",
    tag: "held",
    access: { kind: "permission", permission: "held.read_own" },
    params: idParam,
    query: heldDetailQuery,
    response: heldDetail,
    handler: async ({ params, query, actor, services, ip }) => {
      const images = query.images === "show";
      const { row, preview } = await viewHeldItem(services, actor, ip, {
        id: params.id,
        allowRemoteImages: images,
      });
      const target = { kind: "held", id: row.id, images } as const;
      const previewUrl = preview.html === null ? null : await previewUrlFor(services, actor, target);
      return { json: presentHeldDetail(row, actor, services.now(), preview, previewUrl) };
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/held/:id/preview",
    summary:
      "The sanitized preview as its own document (strict CSP and sandbox headers), for an iframe src: signed in, " +
      "or with the ticket of the detail's previewUrl",
    tag: "held",
    access: { kind: "permission", permission: "held.read_own" },
    params: idParam,
    query: heldPreviewQuery,
    produces: "text/html",
    authenticateBy: byPreviewTicket("held"),
    handler: async ({ params, query, actor, services, ip, res }) => {
      const allowRemoteImages = query.images === "show";
      // A ticket comes from a detail that audited this very view (same person, message and images choice).
      const audit = query.ticket === undefined;
      const { preview } = await viewHeldItem(services, actor, ip, {
        id: params.id,
        allowRemoteImages,
        audit,
      });
      for (const [name, value] of Object.entries(previewResponseHeaders({ allowRemoteImages })))
        res.setHeader(name, value);
      res.setHeader("content-type", "text/html; charset=utf-8");
      res.send(buildPreviewDocument(preview.bodyHtml ?? "", { allowRemoteImages }));
    },
  }),
  ...actionRoutes,
  defineRoute({
    method: "post",
    path: "/api/held/bulk",
    summary: "Run one action on many held messages; one result per id, in order (each idempotent)",
    tag: "held",
    access: { kind: "permission", permission: "held.act_own" },
    body: heldBulkBody,
    response: heldBulkResult,
    handler: async ({ body, actor, services, ip }) => ({
      json: { results: await actOnHeldBulk(services, actor, ip, body) },
    }),
  }),
  defineRoute({
    method: "get",
    path: "/api/admin/held/requests/count",
    summary: `How many release requests of a status wait in your organisation, up to ${HELD_COUNT_CAP} (more: true past it): the Review tab's badge`,
    tag: "admin-held",
    access: { kind: "permission", permission: "held.approve_release" },
    query: releaseRequestCountQuery,
    response: heldCount,
    handler: async ({ query, actor, services }) => ({
      json: await countReleaseRequests(services.db, actor, query.status, HELD_COUNT_CAP),
    }),
  }),
  defineRoute({
    method: "get",
    path: "/api/admin/held/requests",
    summary:
      "Release requests for phish/malware holds and organisation blocks, for a security admin to decide",
    tag: "admin-held",
    access: { kind: "permission", permission: "held.approve_release" },
    query: releaseRequestQuery,
    response: releaseRequestList,
    handler: async ({ query, actor, services }) => {
      const page = await listReleaseRequests(services.db, actor, query);
      const now = services.now();
      return {
        json: {
          items: page.rows.map((r) => ({
            id: r.id,
            heldId: r.held.id,
            requester: r.requester,
            note: r.note,
            status: r.status,
            createdAt: new Date(r.created_at).toISOString(),
            // The decision needs the why: the verdict's signals in plain words, as the detail shows them.
            held: { ...presentHeldItem(r.held, actor, now), signals: presentSignals(r.held.signals) },
          })),
          nextCursor: page.nextCursor,
        },
      };
    },
  }),
  ...(["approve", "deny"] as const).map((verb) =>
    defineRoute({
      method: "post",
      path: `/api/admin/held/:id/${verb}`,
      summary:
        verb === "approve"
          ? "Approve a release request: release the message and tell the requester"
          : "Deny a release request: keep it held and tell the requester",
      tag: "admin-held",
      access: { kind: "permission", permission: "held.approve_release" },
      params: idParam,
      body: releaseDecisionBody,
      response: heldActionResult,
      handler: async ({ params, body, actor, services, ip }) => {
        const row = await decideReleaseRequest(services, actor, ip, {
          heldId: params.id,
          decision: verb === "approve" ? "approved" : "denied",
          note: body.note,
        });
        return { json: presentHeldItem(row, actor, services.now()) };
      },
    }),
  ),
];
