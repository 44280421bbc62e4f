import type { Route } from "./router";
import { jsonBody, jsonResponse, wantsImmutableIds } from "./types";

/** POST/GET /subscriptions, GET/PATCH/DELETE /subscriptions/{id}, POST /subscriptions/{id}/reauthorize. */
export const subscriptionRoutes: Route[] = [
  {
    method: "POST",
    pattern: "subscriptions",
    handler: async (ctx, req) => {
      const subscription = await ctx.subscriptions.create(
        req.principal,
        jsonBody(req),
        wantsImmutableIds(req),
      );
      return jsonResponse(201, {
        "@odata.context": `${ctx.linkBase()}/$metadata#subscriptions/$entity`,
        ...ctx.subscriptions.render(subscription),
      });
    },
  },
  {
    method: "GET",
    pattern: "subscriptions",
    handler: (ctx, req) => {
      ctx.subscriptions.sweep();
      const mine = [...ctx.subscriptions.subscriptions.values()].filter(
        (subscription) => !req.principal || subscription.applicationId === req.principal.appId,
      );
      return jsonResponse(200, {
        "@odata.context": `${ctx.linkBase()}/$metadata#subscriptions`,
        value: mine.map((subscription) => ctx.subscriptions.render(subscription)),
      });
    },
  },
  {
    method: "GET",
    pattern: "subscriptions/:id",
    handler: (ctx, req, params) =>
      jsonResponse(200, ctx.subscriptions.render(ctx.subscriptions.get(params.id ?? "", req.principal))),
  },
  {
    method: "PATCH",
    pattern: "subscriptions/:id",
    handler: async (ctx, req, params) => {
      const subscription = ctx.subscriptions.get(params.id ?? "", req.principal);
      await ctx.subscriptions.renew(subscription, jsonBody(req));
      return jsonResponse(200, ctx.subscriptions.render(subscription));
    },
  },
  {
    method: "DELETE",
    pattern: "subscriptions/:id",
    handler: (ctx, req, params) => {
      const subscription = ctx.subscriptions.get(params.id ?? "", req.principal);
      ctx.subscriptions.subscriptions.delete(subscription.id);
      return { status: 204, headers: {} };
    },
  },
  {
    method: "POST",
    pattern: "subscriptions/:id/reauthorize",
    handler: (ctx, req, params) => {
      ctx.subscriptions.get(params.id ?? "", req.principal).paused = false;
      return { status: 204, headers: {} };
    },
  },
];
