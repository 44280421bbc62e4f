import type { ErrorRequestHandler, RequestHandler, Response } from "express";
import { ERRORS, type ErrorBody, type ErrorId } from "../../shared/errors";
import type { Logger } from "../logger";
import { buildErrorDocument, previewResponseHeaders } from "../preview/document";

/** An error a route can throw to answer with a stable id and the id's HTTP status. */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly id: ErrorId,
    message?: string,
    readonly details?: unknown,
  ) {
    super(message ?? ERRORS[id].message);
    this.status = ERRORS[id].status;
  }
}

/** Shorthand factories, so call sites read as what happened. */
export const errors = {
  notFound: (what = "Not found.") => new ApiError("not_found", what),
  forbidden: (why?: string) => new ApiError("forbidden", why),
  unauthenticated: () => new ApiError("unauthenticated"),
  invalid: (message: string, details?: unknown) => new ApiError("invalid_request", message, details),
  conflict: (message: string) => new ApiError("conflict", message),
  tooLarge: (limitBytes: number) =>
    new ApiError(
      "payload_too_large",
      `The request body is larger than the ${sizeInWords(limitBytes)} this request accepts. Send a smaller body, or split it into several requests.`,
    ),
};

/** A byte count as a person reads it: 100 KB, 36 MB (binary units, as the limits are set). */
function sizeInWords(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.floor(bytes / (1024 * 1024))} MB`;
  if (bytes >= 1024) return `${Math.floor(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

/** The body for an error id, with the default message unless one is given. */
export function errorBody(id: ErrorId, message?: string, details?: unknown): ErrorBody {
  const body: ErrorBody = { error: id, message: message ?? ERRORS[id].message };
  if (details !== undefined) body.details = details;
  return body;
}

/** 404 for /api paths no router claimed. */
export const apiRouteNotFound: RequestHandler = (req, res) => {
  res
    .status(404)
    .json(
      errorBody("route_not_found", `There is no API route ${req.method} ${req.originalUrl.split("?")[0]}.`),
    );
};

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

/**
 * Marks a response whose errors a person reads in a frame or a window (routes that answer HTML, such as a preview's
 * iframe): the error handler answers those with a page saying the error's message, not JSON.
 */
export function answerErrorsAsHtml(res: Response): void {
  res.locals.htmlErrors = true;
}

function sendError(res: Response, status: number, body: ErrorBody): void {
  if (res.locals.htmlErrors !== true) {
    res.status(status).json(body);
    return;
  }
  res.status(status).set(previewResponseHeaders()).send(buildErrorDocument(body.error, body.message));
}

/** Turns anything thrown into the one error shape; driver/SMTP/Graph text never reaches the client. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    if (err instanceof ApiError) {
      sendError(res, err.status, errorBody(err.id, err.message, err.details));
      return;
    }
    const parserError = err as BodyParserError;
    if (parserError?.type === "entity.parse.failed") {
      sendError(res, 400, errorBody("invalid_json"));
      return;
    }
    if (parserError?.type === "entity.too.large") {
      const limit = parserError.limit;
      const refused = typeof limit === "number" ? errors.tooLarge(limit) : new ApiError("payload_too_large");
      sendError(res, 413, errorBody(refused.id, refused.message));
      return;
    }
    if (parserError?.type === "encoding.unsupported" || parserError?.type === "charset.unsupported") {
      sendError(res, 415, errorBody("unsupported_media_type"));
      return;
    }
    if (parserError?.status && parserError.status >= 400 && parserError.status < 500) {
      sendError(res, 400, errorBody("invalid_request"));
      return;
    }
    logger.error({ err, method: req.method, path: req.path }, "unhandled error");
    sendError(res, 500, errorBody("internal_error"));
  };
}
