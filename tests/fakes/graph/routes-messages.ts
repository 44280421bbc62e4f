import { randomBytes } from "node:crypto";
import { MAIL_READ, MAIL_WRITE, requirePermission } from "./auth";
import { collectionResponse } from "./collection";
import { renderMessage } from "./mime";
import { applySelect, selectList } from "./odata";
import { requireUser, type Route, type RouteContext, type RouteHandler } from "./router";
import type { StoredMessage, StoredUser } from "./store";
import {
  GraphError,
  jsonBody,
  jsonResponse,
  wantsImmutableIds,
  type GraphRequest,
  type GraphResponse,
} from "./types";

/** Renders a message for a request: id format from the Prefer header, $select applied. */
export function messageResource(req: GraphRequest, message: StoredMessage): Record<string, unknown> {
  const select = selectList(req.query);
  const rendered = renderMessage(
    message,
    wantsImmutableIds(req),
    select?.includes("internetMessageHeaders") ?? false,
  );
  return applySelect(rendered, select, "microsoft.graph.message");
}

/** Resolves the message of a `/users/{u}[/mailFolders/{f}]/messages/{id}` route; a folder mismatch is 404. */
export function routeMessage(
  ctx: RouteContext,
  user: StoredUser,
  params: Record<string, string>,
): StoredMessage {
  const message = ctx.store.message(user, params.message ?? "");
  if (params.folder !== undefined && ctx.store.folder(user, params.folder).id !== message.folderId) {
    throw new GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.");
  }
  return message;
}

function listMessages(
  ctx: RouteContext,
  req: GraphRequest,
  user: StoredUser,
  folderKey: string | undefined,
): GraphResponse {
  requirePermission(req.principal, MAIL_READ, user.id);
  const folder = folderKey === undefined ? undefined : ctx.store.folder(user, folderKey);
  const immutable = wantsImmutableIds(req);
  const headers = selectList(req.query)?.includes("internetMessageHeaders") ?? false;
  const items = ctx.store
    .messagesIn(user, folder?.id)
    .map((message) => renderMessage(message, immutable, headers));
  return collectionResponse(ctx, req, items, {
    typeName: "microsoft.graph.message",
    contextPath: `users('${user.id}')/messages`,
    defaultOrder: "receivedDateTime desc",
  });
}

const getMessage: RouteHandler = (ctx, req, params, user) => {
  const owner = requireUser(user, params);
  requirePermission(req.principal, MAIL_READ, owner.id);
  return jsonResponse(200, {
    "@odata.context": `${ctx.linkBase()}/$metadata#users('${owner.id}')/messages/$entity`,
    ...messageResource(req, routeMessage(ctx, owner, params)),
  });
};

const getMime: RouteHandler = (ctx, req, params, user) => {
  const owner = requireUser(user, params);
  requirePermission(req.principal, MAIL_READ, owner.id);
  const message = routeMessage(ctx, owner, params);
  return { status: 200, headers: { "content-type": "text/plain" }, body: message.mime };
};

const patchMessage: RouteHandler = (ctx, req, params, user) => {
  const owner = requireUser(user, params);
  requirePermission(req.principal, MAIL_WRITE, owner.id);
  const message = routeMessage(ctx, owner, params);
  const body = jsonBody(req);
  const patch: Partial<Pick<StoredMessage, "isRead" | "categories" | "importance" | "flagStatus">> = {};
  if (typeof body.isRead === "boolean") patch.isRead = body.isRead;
  if (Array.isArray(body.categories))
    patch.categories = body.categories.filter((c): c is string => typeof c === "string");
  if (typeof body.importance === "string") patch.importance = body.importance;
  const flag: unknown = body.flag;
  if (
    typeof flag === "object" &&
    flag !== null &&
    typeof (flag as { flagStatus?: unknown }).flagStatus === "string"
  ) {
    patch.flagStatus = (flag as { flagStatus: string }).flagStatus;
  }
  ctx.store.updateMessage(owner, message, patch);
  return jsonResponse(200, messageResource(req, message));
};

const deleteMessage: RouteHandler = (ctx, req, params, user) => {
  const owner = requireUser(user, params);
  requirePermission(req.principal, MAIL_WRITE, owner.id);
  ctx.store.deleteMessage(owner, routeMessage(ctx, owner, params));
  return { status: 204, headers: {} };
};

function destination(ctx: RouteContext, req: GraphRequest, user: StoredUser) {
  const body = jsonBody(req);
  if (typeof body.destinationId !== "string" || body.destinationId === "") {
    throw new GraphError(400, "ErrorInvalidIdMalformed", "Id is malformed.");
  }
  return ctx.store.folder(user, body.destinationId);
}

/** POST .../move: new REST id in the destination (immutable id unchanged); 201 with the moved message. */
const moveMessage: RouteHandler = (ctx, req, params, user) => {
  const owner = requireUser(user, params);
  requirePermission(req.principal, MAIL_WRITE, owner.id);
  const message = routeMessage(ctx, owner, params);
  const folder = destination(ctx, req, owner);
  ctx.store.moveMessage(owner, message, folder.id);
  return jsonResponse(201, messageResource(req, message));
};

/** POST .../copy: a new item (new ids) in the destination; 201 with the copy. */
const copyMessage: RouteHandler = (ctx, req, params, user) => {
  const owner = requireUser(user, params);
  requirePermission(req.principal, MAIL_WRITE, owner.id);
  const message = routeMessage(ctx, owner, params);
  const folder = destination(ctx, req, owner);
  const { immutableId: _immutable, restId: _rest, folderId: _folder, ...content } = message;
  const copy = ctx.store.addMessage(owner, folder.id, {
    ...content,
    changeKey: randomBytes(12).toString("base64"),
  });
  return jsonResponse(201, messageResource(req, copy));
};

const collectionRoutes = (prefix: string, folderScoped: boolean): Route[] => [
  {
    method: "GET",
    pattern: `${prefix}/messages`,
    handler: (ctx, req, params, user) =>
      listMessages(ctx, req, requireUser(user, params), folderScoped ? params.folder : undefined),
  },
  { method: "GET", pattern: `${prefix}/messages/:message`, handler: getMessage },
  { method: "PATCH", pattern: `${prefix}/messages/:message`, handler: patchMessage },
  { method: "DELETE", pattern: `${prefix}/messages/:message`, handler: deleteMessage },
  { method: "GET", pattern: `${prefix}/messages/:message/$value`, handler: getMime },
  { method: "POST", pattern: `${prefix}/messages/:message/move`, handler: moveMessage },
  { method: "POST", pattern: `${prefix}/messages/:message/copy`, handler: copyMessage },
];

/** Message routes, both mailbox-wide and folder-scoped. */
export const messageRoutes: Route[] = [
  ...collectionRoutes("users/:user", false),
  ...collectionRoutes("users/:user/mailFolders/:folder", true),
];
