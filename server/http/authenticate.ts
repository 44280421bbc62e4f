import type { NextFunction, Request, Response } from "express";
import { parse as parseCookie } from "cookie";
import type { Actor, Services } from "../context";
import { loadActor } from "../auth/actor";
import { CSRF_HEADER, SESSION_COOKIE, csrfTokenMatches, findSession } from "../auth/sessions";
import { ApiError } from "./errors";

/** Verifies an `Authorization: Bearer` token and returns the user id it maps to (Entra; see server/auth/entra). */
export type BearerVerifier = (token: string, services: Services) => Promise<{ userId: string }>;

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Reads the cookies of a request (Express 5 does not parse them). */
export function cookiesOf(req: Request): Record<string, string | undefined> {
  return parseCookie(req.headers.cookie ?? "");
}

/**
 * Resolves the actor from a bearer token or the session cookie. Cookie
 * sessions must send the CSRF header on unsafe methods; bearer tokens need not.
 */
export async function resolveActor(
  req: Request,
  services: Services,
  verifyBearer: BearerVerifier | null,
  checkCsrf: boolean,
): Promise<Actor> {
  const authorization = req.headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match?.[1] || !verifyBearer) throw new ApiError("invalid_token");
    const { userId } = await verifyBearer(match[1], services);
    const actor = await loadActor(services.db, userId, "bearer");
    if (!actor) throw new ApiError("account_disabled");
    return actor;
  }
  const token = cookiesOf(req)[SESSION_COOKIE];
  if (!token) throw new ApiError("unauthenticated");
  const session = await findSession(services.db, token, services.now());
  if (!session) throw new ApiError("unauthenticated", "Your session has ended. Sign in again.");
  if (checkCsrf && UNSAFE.has(req.method) && !csrfTokenMatches(req.get(CSRF_HEADER), session.csrfToken)) {
    throw new ApiError("csrf_failed");
  }
  const actor = await loadActor(services.db, session.userId, "session", session.id);
  if (!actor) throw new ApiError("unauthenticated", "Your account is disabled or was removed.");
  return actor;
}

/** The client address as Express computed it (honours `trust proxy` only when configured). */
export function clientIp(req: Request): string | null {
  return req.ip ?? req.socket.remoteAddress ?? null;
}

/** Express-style wrapper for async middleware. */
export function asyncMiddleware(fn: (req: Request, res: Response) => Promise<void>) {
  return (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).then(() => next(), next);
  };
}
