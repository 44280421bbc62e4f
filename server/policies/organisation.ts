import type { Actor } from "../context";
import type { Decision } from "./authorize";
import { administersPartner } from "./authorize";

/** What the team rules need to know about a team: its organisation and its partner group (null: in-house). */
export interface TeamResource {
  tenantId: string;
  partnerId: string | null;
}

/** What the partner group rules need to know about a partner group. */
export interface PartnerResource {
  id: string;
  tenantId: string;
}

/**
 * Seeing a team in the admin API: tenant admins every team of their organisation; partner admins only the teams of a
 * partner group they administer. An in-house team or another partner's is hidden from them (404), as its people are.
 */
export function canSeeTeam(actor: Actor, team: TeamResource): Decision {
  if (actor.tenantId !== team.tenantId) return "hidden";
  if (actor.permissions.has("users.manage")) return "allowed";
  if (actor.permissions.has("users.manage_partner") && administersPartner(actor, team.partnerId))
    return "allowed";
  return "hidden";
}

/**
 * Renaming or deleting a team: whoever sees it (tenant admins any team of theirs, partner admins their own partner
 * group's teams). Its members are theirs to place already, so deleting an empty team takes nobody's reach away.
 */
export function canManageTeam(actor: Actor, team: TeamResource): Decision {
  return canSeeTeam(actor, team);
}

/**
 * Moving a team to another partner group (or in-house), its people with it: tenant admins only. Which vendor's admins
 * see a team's people is the organisation's decision, never a vendor's: a partner admin may not hand their team to
 * another group or take one in (403), though they rename and delete their own group's.
 */
export function canMoveTeam(actor: Actor, team: TeamResource): Decision {
  const visible = canSeeTeam(actor, team);
  if (visible !== "allowed") return visible;
  return actor.permissions.has("users.manage") ? "allowed" : "denied";
}

/**
 * Creating a team in a partner group (null: in-house): a tenant admin anywhere in their organisation; a partner admin
 * only in a partner group they administer, never in-house (an in-house team's lead sees and releases the
 * organisation's own people's held mail) nor in another partner's.
 */
export function canCreateTeam(actor: Actor, team: { partnerId: string | null }): Decision {
  if (actor.permissions.has("users.manage")) return "allowed";
  if (!actor.permissions.has("users.manage_partner")) return "denied";
  return administersPartner(actor, team.partnerId) ? "allowed" : "denied";
}

/** Seeing a partner group: tenant admins all of their organisation's; partner admins the ones they administer. */
export function canSeePartner(actor: Actor, partner: PartnerResource): Decision {
  if (actor.tenantId !== partner.tenantId) return "hidden";
  if (actor.permissions.has("users.manage")) return "allowed";
  if (actor.permissions.has("users.manage_partner") && administersPartner(actor, partner.id))
    return "allowed";
  return "hidden";
}

/** Creating a partner group: tenant admins only (a vendor never makes itself another group of the organisation). */
export function canCreatePartner(actor: Actor): Decision {
  return actor.permissions.has("users.manage") ? "allowed" : "denied";
}

/**
 * Renaming or deleting a partner group: tenant admins only. A partner admin's reach is their partner group;
 * renaming or deleting one is the organisation's decision about its vendors, never the vendor's.
 */
export function canManagePartner(actor: Actor, partner: PartnerResource): Decision {
  const visible = canSeePartner(actor, partner);
  if (visible !== "allowed") return visible;
  return actor.permissions.has("users.manage") ? "allowed" : "denied";
}
