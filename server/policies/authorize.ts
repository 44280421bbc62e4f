import type { Actor } from "../context";
import { ApiError } from "../http/errors";

/**
 * A policy's answer: `hidden` (the actor may not know it exists → 404),
 * `denied` (visible, but not this action → 403), or `allowed`.
 */
export type Decision = "allowed" | "denied" | "hidden";

/** A pure rule: given an actor and a resource, may the action happen? */
export type Rule<R> = (actor: Actor, resource: R) => Decision;

/** Turns a decision into an exception: someone else's resource answers 404, not 403 (DESIGN §9). */
export function enforce(decision: Decision, what = "Not found."): void {
  if (decision === "hidden") throw new ApiError("not_found", what);
  if (decision === "denied") throw new ApiError("forbidden");
}

/** Runs a rule and throws unless allowed. */
export function authorize<R>(actor: Actor, rule: Rule<R>, resource: R, what?: string): void {
  enforce(rule(actor, resource), what);
}

/**
 * True when the actor holds a role whose scope covers a team (team leads). A scope outside their own partner group
 * (RoleGrant.inGroup false: a row from before roleScopeFitsPerson) covers none.
 */
export function leadsTeam(actor: Actor, teamId: string | null): boolean {
  if (!teamId) return false;
  return actor.grants.some(
    (g) =>
      g.inGroup &&
      g.role === "team_lead" &&
      g.scope === "team" &&
      (g.scopeId === teamId || (g.scopeId === null && actor.teamId === teamId)),
  );
}

/** True when the actor administers a partner group (a partner's person only their own: RoleGrant.inGroup). */
export function administersPartner(actor: Actor, partnerId: string | null): boolean {
  if (!partnerId) return false;
  return actor.grants.some(
    (g) =>
      g.inGroup &&
      g.role === "partner_admin" &&
      g.scope === "partner" &&
      (g.scopeId === partnerId || (g.scopeId === null && actor.partnerId === partnerId)),
  );
}
