import type { Actor } from "../context";

/** The JSON for GET /api/me (DESIGN §4). */
export function presentMe(actor: Actor) {
  return {
    id: actor.userId,
    email: actor.email,
    displayName: actor.displayName,
    roles: actor.roles,
    permissions: [...actor.permissions].sort(),
  };
}
