import type { Request, Response } from "express";
import type { z } from "zod";
import type { Permission } from "../../shared/permissions";
import type { Actor, Services } from "../context";

/** Who may call a route before its own policy check runs. */
export type Access =
  | { kind: "public" } // no sign-in (login, health, signed digest links, webhooks with their own checks)
  | { kind: "signed_in" } // any signed-in user; the handler's policy decides per resource
  | { kind: "permission"; permission: Permission }; // a permission from shared/permissions.ts

/** What a handler receives: validated input, the actor, and the raw req/res for streaming. */
export interface RouteInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  actor: Actor;
  services: Services;
  ip: string | null;
  req: Request;
  res: Response;
}

/** What a handler may return: JSON (default 200), a status with JSON, or nothing when it wrote `res` itself. */
export type RouteResult = { status: number; body: unknown } | { json: unknown } | void;

/** One API route: method, path, schemas (validation and OpenAPI at once), access rule and handler. */
export interface RouteSpec<B = unknown, Q = unknown, P = unknown> {
  method: "get" | "post" | "put" | "patch" | "delete";
  path: string;
  summary: string;
  tag: string;
  access: Access;
  body?: z.ZodType<B>;
  /** The largest JSON body taken, in bytes (BODY_LIMITS in server/http/body-limit.ts); BODY_LIMITS.default if unset. */
  bodyLimit?: number;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  response?: z.ZodType;
  /** Answers with a non-JSON type (EML, CSV, mbox): documented as such in OpenAPI. */
  produces?: string;
  /** Skip CSRF for this unsafe route (only for routes that authenticate by other means, such as login). */
  csrfExempt?: boolean;
  /** Reachable by a restricted session (an admin who must still enrol TOTP): enrolment, /api/me, logout. */
  allowRestricted?: boolean;
  /**
   * A credential the route takes besides a session or bearer token (a preview ticket in the URL, for an iframe
   * that can send neither): the actor it stands for, or null when the request carries none (the usual sign-in
   * then applies). It throws when the one carried is not valid. The access rule is checked on that actor too.
   */
  authenticateBy?: (input: { params: P; query: Q; services: Services }) => Promise<Actor | null>;
  handler: (input: RouteInput<B, Q, P>) => Promise<RouteResult>;
}

/** Declares a route with its types inferred from its schemas. */
export function defineRoute<B = undefined, Q = undefined, P = undefined>(
  spec: RouteSpec<B, Q, P>,
): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** A public route's handler gets no actor; this placeholder makes misuse obvious in logs. */
export const ANONYMOUS: Actor = {
  userId: "",
  tenantId: "",
  email: "anonymous",
  displayName: "anonymous",
  teamId: null,
  partnerId: null,
  grants: [],
  roles: [],
  permissions: new Set(),
  groupAddresses: [],
  via: "system",
};
