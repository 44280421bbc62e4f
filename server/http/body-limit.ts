import type { IncomingMessage, Server } from "node:http";
import express, { type Request, type RequestHandler, type Response } from "express";
import { errors } from "./errors";

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * The largest request body each kind of request takes, in bytes. Every body-reading route names one: a body over it is
 * refused with 413 payload_too_large, on its declared Content-Length before a byte of it is read, or as soon as a
 * chunked body passes it, and the connection is then closed so that no more of it is read.
 */
export const BODY_LIMITS = {
  /** Forms and commands (sign-in, settings, held actions, bulk ids): their schemas accept a few KB. */
  default: 100 * KIB,
  /** An archive forward: up to 20 addresses and a 10,000-character note, escaped the longest way. */
  archiveForward: 256 * KIB,
  /** An archive reply (100,000 characters) or an export of up to 10,000 ids. */
  archiveText: MIB,
  /** A sender list import: CSV of up to 1,000,000 characters. */
  senderImport: 8 * MIB,
  /** A report with its EML inline: up to 35,000,000 base64 characters (25 MB of MIME) and the other fields. */
  report: 36 * MIB,
  /** A Graph change or lifecycle notification collection (Graph batches a few KB per notification). */
  graphNotification: MIB,
} as const;

/** The declared Content-Length, or null when the body is chunked (or absent). */
function declaredLength(req: Request): number | null {
  const header = req.headers["content-length"];
  if (header === undefined) return null;
  const length = Number(header);
  return Number.isSafeInteger(length) && length >= 0 ? length : null;
}

/** True when the request carries a body (the test body-parser uses). */
function hasBody(req: Request): boolean {
  return req.headers["transfer-encoding"] !== undefined || declaredLength(req) !== null;
}

/** The 413, with the connection marked to close: what is left of the body is never read. */
function refuse(res: Response, limit: number): Error {
  res.setHeader("Connection", "close");
  return errors.tooLarge(limit);
}

/**
 * A JSON body parser with a hard limit (express.json's own, plus what it lacks): a declared Content-Length over the
 * limit is refused at once, unread; a chunked body is counted as it arrives and refused once past the limit. Either
 * way the 413 closes the connection. express.json alone reads (drains) the whole body before answering 413, however
 * long it is. `everyContentType` parses whatever the Content-Type (Graph's webhooks), instead of only application/json.
 */
export function jsonBody(limit: number, options: { everyContentType?: boolean } = {}): RequestHandler {
  const parse = express.json({ limit, ...(options.everyContentType ? { type: () => true } : {}) });
  return (req, res, next) => {
    const declared = declaredLength(req);
    if (declared !== null && declared > limit) {
      next(refuse(res, limit));
      return;
    }
    // Counted only when the parser reads the body: a listener would otherwise start a flow nobody reads.
    const counted =
      hasBody(req) && (options.everyContentType === true || req.is("application/json") !== false);
    let received = 0;
    let settled = false;
    const settle = (err?: unknown): void => {
      if (settled) return;
      settled = true;
      req.off("data", count);
      next(err);
    };
    function count(chunk: Buffer): void {
      received += chunk.length;
      if (received <= limit) return;
      // Read no further while the 413 goes out: under load the body went on being read (2 MB past a 100 KB limit)
      // until the connection closed.
      req.pause();
      settle(refuse(res, limit));
    }
    if (counted) req.on("data", count);
    // The client waits for leave to send its body (continueAfterLimitCheck): given only now, past the declared size.
    if (counted && awaitingContinue.delete(req)) res.writeContinue();
    // After a refusal the parser still calls back (once the connection closes): its answer is already given.
    parse(req, res, settle);
  };
}

/**
 * A response that starts before its request's body has all arrived (a route that never reads it: a GET with a body,
 * an unknown path, an error answered first) closes the connection. Kept alive, Node would read and discard the rest of
 * the body, however long, to reach the next request on it.
 */
export const closeWhenBodyUnread: RequestHandler = (req, res, next) => {
  if (hasBody(req)) {
    const writeHead = res.writeHead.bind(res);
    res.writeHead = ((...args: Parameters<typeof writeHead>) => {
      if (!req.complete) res.setHeader("Connection", "close");
      return writeHead(...args);
    }) as typeof res.writeHead;
  }
  next();
};

/**
 * Lets the routes answer `Expect: 100-continue` themselves: Node would send "100 Continue" as the headers arrive, before
 * any limit is checked, so a client asking first whether it may upload 10 GB would be told yes, then refused once it
 * had started. With this, `jsonBody` sends it once the declared size passed the route's limit; a request whose body no
 * route reads gets its answer without it (and the connection closes, as for any unread body).
 */
export function continueAfterLimitCheck(server: Server): void {
  server.on("checkContinue", (req, res) => {
    awaitingContinue.add(req);
    server.emit("request", req, res);
  });
}

/** Requests whose client waits for "100 Continue" that Node left to us (on a server without the listener, Node sent it). */
const awaitingContinue = new WeakSet<IncomingMessage>();
