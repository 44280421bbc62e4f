import { randomBytes } from "node:crypto";
import { MAILBOX_SETTINGS, requirePermission } from "./auth";
import { readRecipients } from "./mime";
import { requireUser, type Route } from "./router";
import type { InboxRule, MailStore, MessageFields, StoredUser } from "./store";
import { GraphError, jsonBody, jsonResponse } from "./types";

/** Applies the enabled inbox rules in sequence order to a message being delivered to the inbox. */
export function applyInboxRules(
  store: MailStore,
  user: StoredUser,
  fields: MessageFields,
): { folderId?: string; isRead?: boolean } {
  const outcome: { folderId?: string; isRead?: boolean } = {};
  const from = fields.from?.address.toLowerCase() ?? "";
  const subject = fields.subject.toLowerCase();
  for (const rule of [...user.rules].sort((a, b) => a.sequence - b.sequence)) {
    if (!rule.isEnabled) continue;
    const matches =
      (rule.fromAddresses.length === 0 || rule.fromAddresses.includes(from)) &&
      (rule.senderContains.length === 0 || rule.senderContains.some((part) => from.includes(part))) &&
      (rule.subjectContains.length === 0 || rule.subjectContains.some((part) => subject.includes(part)));
    if (!matches) continue;
    if (rule.markAsRead) outcome.isRead = true;
    if (rule.delete) outcome.folderId = store.folder(user, "deleteditems").id;
    else if (rule.moveToFolder) outcome.folderId = store.folder(user, rule.moveToFolder).id;
    if (rule.stopProcessingRules) break;
  }
  return outcome;
}

const strings = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.filter((item): item is string => typeof item === "string").map((s) => s.toLowerCase())
    : [];

function render(rule: InboxRule): Record<string, unknown> {
  return {
    id: rule.id,
    displayName: rule.displayName,
    sequence: rule.sequence,
    isEnabled: rule.isEnabled,
    hasError: false,
    isReadOnly: false,
    conditions: {
      ...(rule.fromAddresses.length
        ? { fromAddresses: rule.fromAddresses.map((address) => ({ emailAddress: { address } })) }
        : {}),
      ...(rule.senderContains.length ? { senderContains: rule.senderContains } : {}),
      ...(rule.subjectContains.length ? { subjectContains: rule.subjectContains } : {}),
    },
    actions: {
      ...(rule.moveToFolder ? { moveToFolder: rule.moveToFolder } : {}),
      ...(rule.delete ? { delete: true } : {}),
      ...(rule.markAsRead ? { markAsRead: true } : {}),
      stopProcessingRules: rule.stopProcessingRules,
    },
  };
}

/** GET/POST `/users/{id}/mailFolders/inbox/messageRules`, DELETE `.../messageRules/{id}` (MailboxSettings.ReadWrite). */
export const ruleRoutes: Route[] = [
  {
    method: "GET",
    pattern: "users/:user/mailFolders/inbox/messageRules",
    handler: (_ctx, req, params, user) => {
      const owner = requireUser(user, params);
      requirePermission(req.principal, MAILBOX_SETTINGS, owner.id);
      return jsonResponse(200, { value: owner.rules.map(render) });
    },
  },
  {
    method: "POST",
    pattern: "users/:user/mailFolders/inbox/messageRules",
    handler: (ctx, req, params, user) => {
      const owner = requireUser(user, params);
      requirePermission(req.principal, MAILBOX_SETTINGS, owner.id);
      const body = jsonBody(req);
      const conditions = (body.conditions ?? {}) as Record<string, unknown>;
      const actions = (body.actions ?? {}) as Record<string, unknown>;
      if (typeof body.displayName !== "string" || typeof body.sequence !== "number") {
        throw new GraphError(400, "ErrorInvalidRequest", "A rule needs a displayName and a sequence.");
      }
      const moveToFolder = typeof actions.moveToFolder === "string" ? actions.moveToFolder : undefined;
      if (moveToFolder) ctx.store.folder(owner, moveToFolder);
      const rule: InboxRule = {
        id: `AQAAA${randomBytes(12).toString("base64url")}=`,
        displayName: body.displayName,
        sequence: body.sequence,
        isEnabled: body.isEnabled !== false,
        fromAddresses: readRecipients(conditions.fromAddresses).map((box) => box.address.toLowerCase()),
        senderContains: strings(conditions.senderContains),
        subjectContains: strings(conditions.subjectContains),
        moveToFolder,
        delete: actions.delete === true,
        markAsRead: actions.markAsRead === true,
        stopProcessingRules: actions.stopProcessingRules === true,
      };
      owner.rules.push(rule);
      return jsonResponse(201, render(rule));
    },
  },
  {
    method: "DELETE",
    pattern: "users/:user/mailFolders/inbox/messageRules/:rule",
    handler: (_ctx, req, params, user) => {
      const owner = requireUser(user, params);
      requirePermission(req.principal, MAILBOX_SETTINGS, owner.id);
      const before = owner.rules.length;
      owner.rules = owner.rules.filter((rule) => rule.id !== params.rule);
      if (owner.rules.length === before)
        throw new GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.");
      return { status: 204, headers: {} };
    },
  },
];
