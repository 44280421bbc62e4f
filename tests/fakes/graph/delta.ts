import { randomBytes } from "node:crypto";
import { MAIL_READ, requirePermission } from "./auth";
import { encodePath } from "./collection";
import { renderMessage } from "./mime";
import { applySelect, compileFilter, intOption, maxPageSize, selectList } from "./odata";
import { requireUser, type Route, type RouteContext } from "./router";
import type { StoredUser } from "./store";
import { GraphError, jsonResponse, wantsImmutableIds, type GraphRequest, type GraphResponse } from "./types";

interface DeltaItem {
  immutableId: string;
  /** REST id the message had in the folder (what a removal reports without immutable ids). */
  restId: string;
  removed: boolean;
}

interface DeltaRound {
  userId: string;
  folderId: string;
  items: DeltaItem[];
  offset: number;
  endSeq: number;
  select: string[] | undefined;
  changeType: string | undefined;
  pageSize: number;
}

interface DeltaState {
  userId: string;
  folderId: string;
  seq: number;
  select: string[] | undefined;
  changeType: string | undefined;
}

const CHANGE_TYPES = new Set(["created", "updated", "deleted"]);

/**
 * Delta query per folder (`/users/{id}/mailFolders/{id}/messages/delta`): a round of pages linked by
 * `@odata.nextLink` ($skiptoken), ending with an `@odata.deltaLink` ($deltatoken). A later round returns what
 * changed in the folder since: new or updated messages, and `@removed` entries for messages moved out or deleted.
 */
export class DeltaService {
  private rounds = new Map<string, DeltaRound>();
  private states = new Map<string, DeltaState>();

  /** Serves one delta request. */
  handle(ctx: RouteContext, req: GraphRequest, user: StoredUser, folderKey: string): GraphResponse {
    requirePermission(req.principal, MAIL_READ, user.id);
    const folder = ctx.store.folder(user, folderKey);
    const requestedSize = maxPageSize(req.headers.prefer) ?? intOption(req.query, "$top");
    const skipToken = req.query.get("$skiptoken");
    const deltaToken = req.query.get("$deltatoken");
    let round: DeltaRound | undefined;
    if (skipToken !== null) {
      round = this.rounds.get(skipToken);
      if (!round)
        throw new GraphError(
          400,
          "ErrorInvalidSyncStateData",
          "The sync state data is corrupt or otherwise invalid.",
        );
    } else if (deltaToken !== null) {
      const state = this.states.get(deltaToken);
      if (!state)
        throw new GraphError(
          410,
          "SyncStateNotFound",
          "The sync state cannot be found. Resynchronize from the start.",
        );
      round = this.changesSince(ctx, user, state, requestedSize ?? ctx.options.pageSize);
    } else {
      round = this.initialRound(ctx, req, user, folder.id, requestedSize ?? ctx.options.pageSize);
    }
    if (round.userId !== user.id || round.folderId !== folder.id) {
      throw new GraphError(
        400,
        "ErrorInvalidSyncStateData",
        "The sync state does not belong to this folder.",
      );
    }
    return this.page(ctx, req, user, round, requestedSize);
  }

  private initialRound(
    ctx: RouteContext,
    req: GraphRequest,
    user: StoredUser,
    folderId: string,
    pageSize: number,
  ): DeltaRound {
    const changeType = req.query.get("changeType") ?? undefined;
    if (changeType !== undefined && !CHANGE_TYPES.has(changeType)) {
      throw new GraphError(400, "BadRequest", `Invalid changeType '${changeType}'.`);
    }
    const filter = req.query.get("$filter");
    const predicate = filter ? compileFilter(filter) : undefined;
    const messages = ctx.store
      .messagesIn(user, folderId)
      .filter((message) => !predicate || predicate(renderMessage(message, true, false)))
      .sort((a, b) => b.receivedDateTime.localeCompare(a.receivedDateTime));
    return {
      userId: user.id,
      folderId,
      items: messages.map((message) => ({
        immutableId: message.immutableId,
        restId: message.restId,
        removed: false,
      })),
      offset: 0,
      endSeq: user.seq,
      select: selectList(req.query),
      changeType,
      pageSize,
    };
  }

  private changesSince(
    _ctx: RouteContext,
    user: StoredUser,
    state: DeltaState,
    pageSize: number,
  ): DeltaRound {
    const endSeq = user.seq;
    const byMessage = new Map<string, { first: string; last: string; restId: string }>();
    for (const event of user.changes) {
      if (event.folderId !== state.folderId || event.seq <= state.seq || event.seq > endSeq) continue;
      const seen = byMessage.get(event.immutableId);
      if (seen) {
        seen.last = event.kind;
        seen.restId = event.restId;
        byMessage.delete(event.immutableId);
        byMessage.set(event.immutableId, seen);
      } else {
        byMessage.set(event.immutableId, { first: event.kind, last: event.kind, restId: event.restId });
      }
    }
    const items: DeltaItem[] = [];
    for (const [immutableId, change] of byMessage) {
      const wasPresent = change.first !== "added";
      const nowPresent = change.last !== "removed";
      const type = nowPresent ? (wasPresent ? "updated" : "created") : "deleted";
      if (!nowPresent && !wasPresent) continue;
      if (state.changeType !== undefined && state.changeType !== type) continue;
      items.push({ immutableId, restId: change.restId, removed: !nowPresent });
    }
    return {
      userId: user.id,
      folderId: state.folderId,
      items,
      offset: 0,
      endSeq,
      select: state.select,
      changeType: state.changeType,
      pageSize,
    };
  }

  private page(
    ctx: RouteContext,
    req: GraphRequest,
    user: StoredUser,
    round: DeltaRound,
    requestedSize: number | undefined,
  ): GraphResponse {
    const size = requestedSize ?? round.pageSize;
    const slice = round.items.slice(round.offset, round.offset + size);
    const immutable = wantsImmutableIds(req);
    const value = slice.map((item) => {
      const message = user.messages.get(item.immutableId);
      if (item.removed || !message || message.folderId !== round.folderId) {
        return {
          "@odata.type": "#microsoft.graph.message",
          id: immutable ? item.immutableId : item.restId,
          "@removed": { reason: "deleted" },
        };
      }
      const rendered = renderMessage(
        message,
        immutable,
        round.select?.includes("internetMessageHeaders") ?? false,
      );
      return {
        "@odata.type": "#microsoft.graph.message",
        ...applySelect(rendered, round.select, "microsoft.graph.message"),
      };
    });
    const base = `${ctx.linkBase()}${encodePath(`/users/${user.id}/mailFolders/${round.folderId}/messages/delta`)}`;
    const body: Record<string, unknown> = {
      "@odata.context": `${ctx.linkBase()}/$metadata#Collection(message)`,
      value,
    };
    const nextOffset = round.offset + slice.length;
    if (nextOffset < round.items.length) {
      const token = randomBytes(18).toString("base64url");
      this.rounds.set(token, { ...round, offset: nextOffset, pageSize: size });
      body["@odata.nextLink"] = `${base}?%24skiptoken=${token}`;
    } else {
      const token = randomBytes(18).toString("base64url");
      this.states.set(token, {
        userId: user.id,
        folderId: round.folderId,
        seq: round.endSeq,
        select: round.select,
        changeType: round.changeType,
      });
      body["@odata.deltaLink"] = `${base}?%24deltatoken=${token}`;
    }
    const headers: Record<string, string> =
      requestedSize !== undefined ? { "preference-applied": `odata.maxpagesize=${size}` } : {};
    return jsonResponse(200, body, headers);
  }
}

/** The delta routes (must come before the `/messages/{id}` routes). */
export function deltaRoutes(service: DeltaService): Route[] {
  return [
    {
      method: "GET",
      pattern: "users/:user/mailFolders/:folder/messages/delta",
      handler: (ctx, req, params, user) =>
        service.handle(ctx, req, requireUser(user, params), params.folder ?? ""),
    },
  ];
}
