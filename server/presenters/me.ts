import type { Actor } from "../context";
import { othersReachOf } from "../policies/mail";

/** The JSON for GET /api/me (DESIGN §4). */
export function presentMe(actor: Actor) {
  return {
    id: actor.userId,
    email: actor.email,
    displayName: actor.displayName,
    roles: actor.roles,
    permissions: [...actor.permissions].sort(),
    othersReach: othersReachOf(actor),
  };
}
