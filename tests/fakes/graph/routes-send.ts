import { randomBytes } from "node:crypto";
import { simpleParser } from "mailparser";
import { MAIL_SEND, requirePermission } from "./auth";
import { composeMime, readRecipients, type MessageInput } from "./mime";
import { requireUser, type Route, type RouteHandler } from "./router";
import { routeMessage } from "./routes-messages";
import type { Mailbox, StoredMessage, StoredUser } from "./store";
import { GraphError, jsonBody } from "./types";

const ACCEPTED = { status: 202, headers: {} };

function invalidRecipients(): GraphError {
  return new GraphError(400, "ErrorInvalidRecipients", "At least one recipient isn't valid.");
}

/** Graph's 400 for a reply/forward that gives both `comment` and `message.body` (docs: "specify either"). */
function refuseCommentWithBody(body: Record<string, unknown>, input: Partial<MessageInput>): void {
  if (body.comment !== undefined && (input.text !== undefined || input.html !== undefined))
    throw new GraphError(
      400,
      "ErrorInvalidRequest",
      "Specify either a comment or the body property of the message parameter, not both.",
    );
}

function sender(user: StoredUser): Mailbox {
  return { name: user.displayName, address: user.mail };
}

function newMessageId(user: StoredUser): string {
  const domain = user.mail.split("@")[1] ?? "fake.graph";
  return `<${randomBytes(16).toString("hex")}@${domain}>`;
}

/** Reads the Graph message JSON of sendMail / reply / forward into composer input. */
function readMessage(value: unknown): Partial<MessageInput> & { bcc: Mailbox[] } {
  if (typeof value !== "object" || value === null) return { bcc: [] };
  const message = value as Record<string, unknown>;
  const body = (typeof message.body === "object" && message.body !== null ? message.body : {}) as Record<
    string,
    unknown
  >;
  const content = typeof body.content === "string" ? body.content : undefined;
  const isHtml = typeof body.contentType === "string" && body.contentType.toLowerCase() === "html";
  const headers: Record<string, string> = {};
  if (Array.isArray(message.internetMessageHeaders)) {
    for (const header of message.internetMessageHeaders as unknown[]) {
      const { name, value: headerValue } = (header ?? {}) as { name?: unknown; value?: unknown };
      if (typeof name === "string" && typeof headerValue === "string") headers[name] = headerValue;
    }
  }
  const attachments = Array.isArray(message.attachments)
    ? (message.attachments as unknown[]).flatMap((item) => {
        const { name, contentBytes, contentType } = (item ?? {}) as Record<string, unknown>;
        if (typeof name !== "string" || typeof contentBytes !== "string") return [];
        return [
          {
            filename: name,
            content: Buffer.from(contentBytes, "base64"),
            contentType: typeof contentType === "string" ? contentType : undefined,
          },
        ];
      })
    : undefined;
  return {
    subject: typeof message.subject === "string" ? message.subject : undefined,
    ...(content !== undefined ? (isHtml ? { html: content } : { text: content }) : {}),
    to: readRecipients(message.toRecipients),
    cc: readRecipients(message.ccRecipients),
    bcc: readRecipients(message.bccRecipients),
    headers: Object.keys(headers).length > 0 ? headers : undefined,
    attachments,
  };
}

async function compose(user: StoredUser, input: Partial<MessageInput> & { bcc: Mailbox[] }): Promise<Buffer> {
  return composeMime({ ...input, from: sender(user), internetMessageId: newMessageId(user) });
}

/** POST /users/{id}/sendMail, JSON (`{ message, saveToSentItems }`) or base64 MIME (Content-Type text/plain). */
const sendMail: RouteHandler = async (ctx, req, params, user) => {
  const owner = requireUser(user, params);
  requirePermission(req.principal, MAIL_SEND, owner.id);
  if ((req.headers["content-type"] ?? "").toLowerCase().startsWith("text/plain")) {
    const mime = Buffer.from(req.body.toString("utf8"), "base64");
    const parsed = await simpleParser(mime);
    if (!parsed.to && !parsed.cc && !parsed.bcc) throw invalidRecipients();
    await ctx.sender.submit(owner, mime, true);
    return ACCEPTED;
  }
  const body = jsonBody(req);
  const input = readMessage(body.message);
  if ((input.to?.length ?? 0) + (input.cc?.length ?? 0) + input.bcc.length === 0) throw invalidRecipients();
  await ctx.sender.submit(owner, await compose(owner, input), body.saveToSentItems !== false);
  return ACCEPTED;
};

function quoted(original: StoredMessage): string {
  const fields = original.fields;
  const from = fields.from ? `${fields.from.name} <${fields.from.address}>` : "";
  return `\n\n________________________________\nFrom: ${from}\nSent: ${fields.sentDateTime}\nSubject: ${fields.subject}\n\n${fields.bodyText}`;
}

function prefixed(prefix: string, subject: string): string {
  return subject.toLowerCase().startsWith(prefix.toLowerCase()) ? subject : `${prefix} ${subject}`;
}

function threading(original: StoredMessage): { inReplyTo: string; references: string[] } {
  const previous = original.fields.headers.find(
    (header) => header.name.toLowerCase() === "references",
  )?.value;
  const references = [...(previous ? previous.split(/\s+/) : []), original.fields.internetMessageId].filter(
    Boolean,
  );
  return { inReplyTo: original.fields.internetMessageId, references };
}

function replyHandler(all: boolean): RouteHandler {
  return async (ctx, req, params, user) => {
    const owner = requireUser(user, params);
    requirePermission(req.principal, MAIL_SEND, owner.id);
    const original = routeMessage(ctx, owner, params);
    const body = jsonBody(req);
    const overrides = readMessage(body.message);
    refuseCommentWithBody(body, overrides);
    const self = owner.mail.toLowerCase();
    const author =
      original.fields.replyTo.length > 0
        ? original.fields.replyTo
        : original.fields.from
          ? [original.fields.from]
          : [];
    const others = (boxes: Mailbox[]): Mailbox[] => boxes.filter((box) => box.address.toLowerCase() !== self);
    const to = overrides.to?.length
      ? overrides.to
      : all
        ? [...author, ...others(original.fields.to)]
        : author;
    if (to.length === 0) throw invalidRecipients();
    const comment = typeof body.comment === "string" ? body.comment : (overrides.text ?? "");
    const mime = await compose(owner, {
      ...overrides,
      to,
      cc: overrides.cc?.length ? overrides.cc : all ? others(original.fields.cc) : [],
      subject: prefixed("RE:", original.fields.subject),
      text: `${comment}${quoted(original)}`,
      html: undefined,
      ...threading(original),
    });
    await ctx.sender.submit(owner, mime, true, original.conversationId);
    return ACCEPTED;
  };
}

/**
 * POST .../forward `{ comment, toRecipients }`: the original's text and attachments, "FW:" subject, 202 with
 * no body. Recipients come from `toRecipients` or `message.toRecipients`: both, or neither, is Graph's 400.
 */
const forward: RouteHandler = async (ctx, req, params, user) => {
  const owner = requireUser(user, params);
  requirePermission(req.principal, MAIL_SEND, owner.id);
  const original = routeMessage(ctx, owner, params);
  const body = jsonBody(req);
  const overrides = readMessage(body.message);
  refuseCommentWithBody(body, overrides);
  const direct = readRecipients(body.toRecipients);
  if (direct.length > 0 && (overrides.to?.length ?? 0) > 0)
    throw new GraphError(
      400,
      "ErrorInvalidRequest",
      "Specify either the toRecipients parameter or the toRecipients property of the message parameter.",
    );
  const to = direct.length > 0 ? direct : (overrides.to ?? []);
  if (to.length === 0) throw invalidRecipients();
  const parsed = await simpleParser(original.mime);
  const attachments = parsed.attachments.map((attachment) => ({
    filename: attachment.filename ?? "attachment",
    content: attachment.content,
    contentType: attachment.contentType,
  }));
  const comment = typeof body.comment === "string" ? body.comment : "";
  const mime = await compose(owner, {
    ...overrides,
    to,
    subject: prefixed("FW:", original.fields.subject),
    text: `${comment}${quoted(original)}`,
    html: undefined,
    attachments: [...attachments, ...(overrides.attachments ?? [])],
    ...threading(original),
  });
  await ctx.sender.submit(owner, mime, true, original.conversationId);
  return ACCEPTED;
};

const scoped = (prefix: string): Route[] => [
  { method: "POST", pattern: `${prefix}/messages/:message/reply`, handler: replyHandler(false) },
  { method: "POST", pattern: `${prefix}/messages/:message/replyAll`, handler: replyHandler(true) },
  { method: "POST", pattern: `${prefix}/messages/:message/forward`, handler: forward },
];

/** sendMail, reply, replyAll and forward. */
export const sendRoutes: Route[] = [
  { method: "POST", pattern: "users/:user/sendMail", handler: sendMail },
  ...scoped("users/:user"),
  ...scoped("users/:user/mailFolders/:folder"),
];
