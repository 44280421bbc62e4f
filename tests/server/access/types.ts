import type { Kysely } from "kysely";
import type { Services } from "../../../server/context";
import type { Database } from "../../../server/db/schema";

/**
 * Who calls, in the access matrix: one person per role, a partner (BPO) agent,
 * an investigator holding archive.read_any + held.read_any (granted on purpose),
 * and nobody (no session).
 */
export const SIGNED_IN_PERSONAS = [
  "agent",
  "team_lead",
  "security_admin",
  "auditor",
  "partner_admin",
  "partner_agent",
  "tenant_admin",
  "investigator",
] as const;
/** A signed-in caller of the matrix. */
export type SignedInPersona = (typeof SIGNED_IN_PERSONAS)[number];
/** A caller of the matrix, including nobody. */
export type Persona = SignedInPersona | "anonymous";

/**
 * Whose resource a request touches, relative to the world (not to the caller):
 * the caller's own, an agent of team T1 (agent and team_lead are in T1), an
 * agent of team T2, an agent of partner P1 (partner_admin and partner_agent are
 * in P1), an agent of partner P2, and an agent of another tenant.
 */
export const OWNERS = [
  "self",
  "teammate",
  "other_team",
  "partner_mate",
  "other_partner",
  "other_tenant",
] as const;
/** Whose resource. */
export type Owner = (typeof OWNERS)[number];

/** A person of the matrix world. */
export interface WorldUser {
  id: string;
  email: string;
  tenantId: string;
  teamId: string | null;
  partnerId: string | null;
}

/** A signed-in caller: its user and a session (cookie + CSRF token) created directly in the database. */
export interface Caller {
  persona: SignedInPersona;
  user: WorldUser;
  cookie: string;
  csrf: string;
}

/** Everything a case's setup can use. */
export interface AccessWorld {
  services: Services;
  db: Kysely<Database>;
  baseUrl: string;
  tenantId: string;
  foreignTenantId: string;
  teams: { t1: string; t2: string };
  partners: { p1: string; p2: string };
  callers: Record<SignedInPersona, Caller>;
  /** The standing owner of each relation (not `self`). */
  owners: Record<Exclude<Owner, "self">, WorldUser>;
  /** A new person in the same position as an owner (same tenant, team, partner; role agent). */
  cloneOwner(owner: Exclude<Owner, "self">): Promise<WorldUser>;
  /** A throwaway session for a user (for requests that end or rotate their session). */
  newSession(user: WorldUser): Promise<{ cookie: string; csrf: string }>;
}

/** The concrete request a case sends. */
export interface AccessRequest {
  path: string;
  body?: unknown;
  /** Send with a throwaway session of the caller's user (logout, TOTP confirm: they end or rotate it). */
  freshSession?: boolean;
  /** The request ends the user's other sessions (TOTP confirm): the caller is given a new one afterwards. */
  endsOtherSessions?: boolean;
  headers?: Record<string, string>;
}

/** A route whose answer depends only on who calls (lists, creation, sign-in, the caller's own settings). */
export interface CallerCase {
  kind: "caller";
  /** `METHOD /path` exactly as in the route table, e.g. `GET /api/held`. */
  route: string;
  /** Short label when a route has several cases. */
  label?: string;
  request?: (ctx: { world: AccessWorld; caller: Caller | null }) => Promise<AccessRequest> | AccessRequest;
  /** Status per persona; `default` for the rest (anonymous defaults to 401 on non-public routes). */
  expect: Partial<Record<Persona | "default", number>>;
}

/** A route that acts on one resource belonging to someone: the matrix tries every persona × owner. */
export interface ResourceCase {
  kind: "resource";
  route: string;
  label?: string;
  /** Creates a resource belonging to `owner` and returns the request that touches it. */
  setup: (ctx: { world: AccessWorld; owner: WorldUser; caller: Caller }) => Promise<AccessRequest>;
  /** Per owner, the personas that succeed. Everyone else gets 404 (hidden) unless listed in `deny`/`forbidden`. */
  allow: Partial<Record<Owner, readonly SignedInPersona[]>>;
  /** Per owner, personas who may see it but not do this (403). */
  deny?: Partial<Record<Owner, readonly SignedInPersona[]>>;
  /** Personas refused by the route's coarse permission before any lookup: 403 whatever the owner. */
  forbidden?: readonly SignedInPersona[];
  /** Success status(es); default 200. */
  success?: number | readonly number[];
  /** One resource per owner, reused by every caller (read-only routes). Default: a fresh resource and owner per request. */
  shared?: boolean;
  /** Limit the owners tried (default: all). */
  owners?: readonly Owner[];
}

/** One declared expectation of the access matrix. */
export type AccessCase = CallerCase | ResourceCase;

/** Every persona except the ones listed (handy for `forbidden`). */
export function everyoneBut(...keep: SignedInPersona[]): SignedInPersona[] {
  return SIGNED_IN_PERSONAS.filter((p) => !keep.includes(p));
}

/** Every signed-in persona. */
export const EVERYONE: readonly SignedInPersona[] = SIGNED_IN_PERSONAS;
