import { MAIL_READ, MAIL_WRITE, requirePermission, USER_READ } from "./auth";
import { collectionResponse } from "./collection";
import { applySelect, selectList } from "./odata";
import { requireUser, type Route, type RouteContext } from "./router";
import type { MailStore, StoredFolder, StoredUser } from "./store";
import { GraphError, jsonBody, jsonResponse, type GraphRequest } from "./types";

/** Graph's user resource (default properties). */
export function renderUser(user: StoredUser): Record<string, unknown> {
  const [givenName = null, surname = null] = user.displayName.split(" ");
  return {
    id: user.id,
    businessPhones: [],
    displayName: user.displayName,
    givenName,
    jobTitle: null,
    mail: user.hasMailbox ? user.mail : null,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: "en-US",
    proxyAddresses: user.proxyAddresses,
    surname,
    userPrincipalName: user.userPrincipalName,
  };
}

/** Graph's mailFolder resource. */
export function renderFolder(
  store: MailStore,
  user: StoredUser,
  folder: StoredFolder,
): Record<string, unknown> {
  const messages = store.messagesIn(user, folder.id);
  return {
    id: folder.id,
    displayName: folder.displayName,
    parentFolderId: folder.parentFolderId,
    childFolderCount: store.childFolders(user, folder.id, true).length,
    unreadItemCount: messages.filter((message) => !message.isRead).length,
    totalItemCount: messages.length,
    sizeInBytes: messages.reduce((sum, message) => sum + message.mime.length, 0),
    isHidden: folder.isHidden,
  };
}

function rootFolder(ctx: RouteContext, user: StoredUser): StoredFolder {
  return ctx.store.folder(user, "msgfolderroot");
}

function listFolders(ctx: RouteContext, req: GraphRequest, user: StoredUser, parent: StoredFolder) {
  requirePermission(req.principal, MAIL_READ, user.id);
  const includeHidden = req.query.get("includeHiddenFolders")?.toLowerCase() === "true";
  const folders = ctx.store
    .childFolders(user, parent.id, includeHidden)
    .map((folder) => renderFolder(ctx.store, user, folder));
  return collectionResponse(ctx, req, folders, {
    typeName: "microsoft.graph.mailFolder",
    contextPath: `users('${user.id}')/mailFolders`,
  });
}

function createFolder(ctx: RouteContext, req: GraphRequest, user: StoredUser, parent: StoredFolder) {
  requirePermission(req.principal, MAIL_WRITE, user.id);
  const body = jsonBody(req);
  if (typeof body.displayName !== "string" || body.displayName.trim() === "") {
    throw new GraphError(400, "ErrorInvalidParameter", "The value of the parameter 'DisplayName' is empty.");
  }
  if (body.isHidden !== undefined && typeof body.isHidden !== "boolean") {
    throw new GraphError(400, "BadRequest", "Cannot convert the literal to the expected type 'Edm.Boolean'.");
  }
  const folder = ctx.store.createFolder(user, parent.id, body.displayName, body.isHidden === true);
  return jsonResponse(201, {
    "@odata.context": `${ctx.linkBase()}/$metadata#users('${user.id}')/mailFolders/$entity`,
    ...renderFolder(ctx.store, user, folder),
  });
}

/** Routes for /users and /users/{id}/mailFolders (well-known names, child folders, hidden folders). */
export const folderRoutes: Route[] = [
  {
    method: "GET",
    pattern: "users",
    handler: (ctx, req) => {
      requirePermission(req.principal, USER_READ);
      const users = [...ctx.store.users.values()].map(renderUser);
      return collectionResponse(ctx, req, users, {
        typeName: "microsoft.graph.user",
        contextPath: "users",
        maxTop: 999,
      });
    },
  },
  {
    method: "GET",
    pattern: "users/:user",
    handler: (_ctx, req, params, user) => {
      // The pipeline resolved the segment as Graph does (MailStore.findUserByIdOrUpn): a mail address that is not
      // the user's sign-in name finds nobody. The directory answers that with its own 404, not Exchange's.
      if (!user) {
        throw new GraphError(
          404,
          "Request_ResourceNotFound",
          `Resource '${params.user ?? ""}' does not exist or one of its queried reference-property objects are not present.`,
        );
      }
      requirePermission(req.principal, USER_READ);
      return jsonResponse(200, applySelect(renderUser(user), selectList(req.query), "microsoft.graph.user"));
    },
  },
  {
    method: "GET",
    pattern: "users/:user/mailFolders",
    handler: (ctx, req, params, user) =>
      listFolders(ctx, req, requireUser(user, params), rootFolder(ctx, requireUser(user, params))),
  },
  {
    method: "POST",
    pattern: "users/:user/mailFolders",
    handler: (ctx, req, params, user) =>
      createFolder(ctx, req, requireUser(user, params), rootFolder(ctx, requireUser(user, params))),
  },
  {
    method: "GET",
    pattern: "users/:user/mailFolders/:folder",
    handler: (ctx, req, params, user) => {
      const owner = requireUser(user, params);
      requirePermission(req.principal, MAIL_READ, owner.id);
      const folder = ctx.store.folder(owner, params.folder ?? "");
      return jsonResponse(
        200,
        applySelect(
          renderFolder(ctx.store, owner, folder),
          selectList(req.query),
          "microsoft.graph.mailFolder",
        ),
      );
    },
  },
  {
    method: "PATCH",
    pattern: "users/:user/mailFolders/:folder",
    handler: (ctx, req, params, user) => {
      const owner = requireUser(user, params);
      requirePermission(req.principal, MAIL_WRITE, owner.id);
      const folder = ctx.store.folder(owner, params.folder ?? "");
      const body = jsonBody(req);
      if ("isHidden" in body) {
        throw new GraphError(
          400,
          "ErrorInvalidProperty",
          "The property 'isHidden' can be set only when the folder is created.",
        );
      }
      if (typeof body.displayName === "string" && body.displayName.trim() !== "")
        folder.displayName = body.displayName;
      return jsonResponse(200, renderFolder(ctx.store, owner, folder));
    },
  },
  {
    method: "GET",
    pattern: "users/:user/mailFolders/:folder/childFolders",
    handler: (ctx, req, params, user) => {
      const owner = requireUser(user, params);
      return listFolders(ctx, req, owner, ctx.store.folder(owner, params.folder ?? ""));
    },
  },
  {
    method: "POST",
    pattern: "users/:user/mailFolders/:folder/childFolders",
    handler: (ctx, req, params, user) => {
      const owner = requireUser(user, params);
      return createFolder(ctx, req, owner, ctx.store.folder(owner, params.folder ?? ""));
    },
  },
];
