import { z } from "zod";
import {
  archiveDetailQuery,
  archiveExportBody,
  archiveForwardBody,
  archiveMessage,
  archivePreviewQuery,
  archiveReplyBody,
  archiveSearchQuery,
  archiveSearchResult,
  archiveSendResult,
} from "../../shared/schemas/archive";
import { idParam } from "../../shared/schemas/common";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { BODY_LIMITS } from "../http/body-limit";
import { searchArchiveAs } from "../commands/archive/search";
import { previewArchived, viewArchivedMessage } from "../commands/archive/view-message";
import { downloadAttachment, downloadRaw } from "../commands/archive/download";
import { forwardArchived, replyToArchived } from "../commands/archive/send";
import { prepareExport } from "../commands/archive/export";
import { presentArchivedMessage, presentSearchPage } from "../presenters/archive";
import { buildPreviewDocument, previewResponseHeaders } from "../preview/index";
import { byPreviewTicket, previewUrlFor } from "../preview/tickets";

const READ = { kind: "permission", permission: "archive.read_own" } as const;

/**
 * RFC 6266 Content-Disposition: an ASCII fallback plus the RFC 8187 UTF-8 form. `encodeURIComponent` leaves
 * `'()*` bare, which RFC 8187 does not allow: Chromium then drops filename* and percent-decodes the fallback,
 * so both are kept strict (no `%` in the fallback) and a mail's filename cannot turn into another name.
 */
function disposition(filename: string): string {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  const utf8 = encodeURIComponent(filename).replace(
    /['()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${utf8}`;
}

/** Archive search, view, raw EML, attachments, forward/reply and export (DESIGN §4, issue 6). */
export const archiveRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/archive/search",
    summary: "Search the archive (query language of DESIGN §4); newest first or by relevance, keyset paged",
    tag: "archive",
    access: READ,
    query: archiveSearchQuery,
    response: archiveSearchResult,
    handler: async ({ query, actor, services, ip }) => ({
      json: presentSearchPage(await searchArchiveAs(services, actor, ip, query)),
    }),
  }),
  defineRoute({
    method: "post",
    path: "/api/archive/export",
    summary:
      "Export the messages a query selects as a zip of .eml or an mbox, streamed, with a SHA-256 manifest",
    tag: "archive",
    access: { kind: "permission", permission: "archive.export" },
    body: archiveExportBody,
    bodyLimit: BODY_LIMITS.archiveText,
    produces: "application/zip",
    handler: async ({ body, actor, services, ip, res }) => {
      const prepared = await prepareExport(services, actor, ip, body);
      const stamp = services.now().toISOString().slice(0, 10);
      res.status(200);
      res.setHeader("Content-Type", prepared.format === "zip" ? "application/zip" : "application/mbox");
      res.setHeader("Content-Disposition", disposition(`mailward-export-${stamp}.${prepared.format}`));
      res.setHeader("X-Mailward-Export-Count", String(prepared.entries.length));
      await prepared.write(res);
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/archive/:id",
    summary: "One archived message: headers, sanitized preview, attachments and thread",
    tag: "archive",
    access: READ,
    params: idParam,
    query: archiveDetailQuery,
    response: archiveMessage,
    handler: async ({ params, query, actor, services, ip }) => {
      const images = query.images === "show";
      const view = await viewArchivedMessage(services, actor, ip, params.id, images);
      const target = { kind: "archive", id: view.message.id, images } as const;
      const previewUrl = view.html === null ? null : await previewUrlFor(services, actor, target);
      return { json: presentArchivedMessage(view, previewUrl) };
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/archive/:id/preview",
    summary:
      "The sanitized preview as its own document (strict CSP and sandbox headers), for an iframe src: signed in, " +
      "or with the ticket of the message's previewUrl",
    tag: "archive",
    access: READ,
    params: idParam,
    query: archivePreviewQuery,
    produces: "text/html",
    authenticateBy: byPreviewTicket("archive"),
    handler: async ({ params, query, actor, services, ip, res }) => {
      const allowRemoteImages = query.images === "show";
      // A ticket comes from a detail that audited this very view (same person, message and images choice).
      const options = { showImages: allowRemoteImages, audited: query.ticket !== undefined };
      const body = await previewArchived(services, actor, ip, params.id, options);
      for (const [name, value] of Object.entries(previewResponseHeaders({ allowRemoteImages })))
        res.setHeader(name, value);
      res.send(buildPreviewDocument(body, { allowRemoteImages }));
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/archive/:id/raw",
    summary: "The original message byte for byte (EML), with its stored SHA-256",
    tag: "archive",
    access: READ,
    params: idParam,
    produces: "message/rfc822",
    handler: async ({ params, actor, services, ip, res }) => {
      const { raw, sha256 } = await downloadRaw(services, actor, ip, params.id);
      res.status(200);
      res.setHeader("Content-Type", "message/rfc822");
      res.setHeader("Content-Disposition", disposition(`${params.id}.eml`));
      res.setHeader("X-Mailward-SHA256", sha256);
      res.setHeader("Repr-Digest", `sha-256=:${Buffer.from(sha256, "hex").toString("base64")}:`);
      res.setHeader("Cache-Control", "private, no-store");
      res.end(raw);
    },
  }),
  defineRoute({
    method: "get",
    path: "/api/archive/:id/attachments/:index",
    summary: "Download one attachment of an archived message (dangerous types: security admins only)",
    tag: "archive",
    access: READ,
    params: idParam.extend({ index: z.coerce.number().int().min(0).max(10_000) }),
    produces: "application/octet-stream",
    handler: async ({ params, actor, services, ip, res }) => {
      const attachment = await downloadAttachment(services, actor, ip, params.id, params.index);
      res.status(200);
      // Always a download, never rendered in our origin.
      res.setHeader("Content-Type", "application/octet-stream");
      res.setHeader("X-Content-Type-Options", "nosniff");
      res.setHeader("Content-Disposition", disposition(attachment.filename));
      res.setHeader("Cache-Control", "private, no-store");
      res.end(attachment.content);
    },
  }),
  defineRoute({
    method: "post",
    path: "/api/archive/:id/forward",
    summary: "Forward an archived message (attached unchanged) through the delivery queue",
    tag: "archive",
    access: READ,
    params: idParam,
    body: archiveForwardBody,
    bodyLimit: BODY_LIMITS.archiveForward,
    response: archiveSendResult,
    handler: async ({ params, body, actor, services, ip }) => ({
      status: 202,
      body: await forwardArchived(services, actor, ip, params.id, body),
    }),
  }),
  defineRoute({
    method: "post",
    path: "/api/archive/:id/reply",
    summary: "Reply (or reply all) to an archived message through the delivery queue",
    tag: "archive",
    access: READ,
    params: idParam,
    body: archiveReplyBody,
    bodyLimit: BODY_LIMITS.archiveText,
    response: archiveSendResult,
    handler: async ({ params, body, actor, services, ip }) => ({
      status: 202,
      body: await replyToArchived(services, actor, ip, params.id, body),
    }),
  }),
];
