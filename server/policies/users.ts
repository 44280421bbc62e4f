import type { Role } from "../../shared/permissions";
import type { Actor } from "../context";
import type { Decision } from "./authorize";
import { administersPartner } from "./authorize";

/** What user-management rules need to know about the person being managed. */
export interface UserResource {
  id: string;
  tenantId: string;
  partnerId: string | null;
  roles: readonly Role[];
}

/** How far an actor's user administration reaches: the whole tenant, some partner groups, or nothing. */
export type UserReach = { kind: "tenant" } | { kind: "partners"; partnerIds: string[] } | { kind: "none" };

/**
 * The reach of the actor: `users.manage` is the tenant; `users.manage_partner` their partner group(s), never one a
 * partner's person was made partner admin of before roleScopeFitsPerson (RoleGrant.inGroup).
 */
export function userReach(actor: Actor): UserReach {
  if (actor.permissions.has("users.manage")) return { kind: "tenant" };
  if (actor.permissions.has("users.manage_partner")) {
    const partnerIds = actor.grants
      .filter((g) => g.inGroup && g.role === "partner_admin" && g.scope === "partner")
      .map((g) => g.scopeId ?? actor.partnerId)
      .filter((id): id is string => Boolean(id));
    if (partnerIds.length > 0) return { kind: "partners", partnerIds: [...new Set(partnerIds)] };
  }
  return { kind: "none" };
}

/** Seeing a user in the admin API: tenant admins all of their tenant; partner admins their partner's people. */
export function canSeeUser(actor: Actor, user: UserResource): Decision {
  if (actor.tenantId !== user.tenantId) return "hidden";
  if (actor.permissions.has("users.manage")) return "allowed";
  if (actor.permissions.has("users.manage_partner") && administersPartner(actor, user.partnerId))
    return "allowed";
  return "hidden";
}

/** True when a partner admin may act on this person: only plain agents of their partner group. */
function partnerAgentOnly(user: UserResource): boolean {
  return user.roles.every((role) => role === "agent");
}

/** Disabling or enabling: not yourself; partner admins only their partner's agents. */
export function canManageUser(actor: Actor, user: UserResource): Decision {
  const visible = canSeeUser(actor, user);
  if (visible !== "allowed") return visible;
  if (user.id === actor.userId) return "denied";
  if (actor.permissions.has("users.manage")) return "allowed";
  return partnerAgentOnly(user) ? "allowed" : "denied";
}

/**
 * Enabling a disabled account again: whoever may manage it, except that a partner admin may only undo a partner
 * admin's disabling. One a tenant admin disabled (an incident, a leaver) or the directory sync retired is theirs to
 * undo, else a partner admin could overrule the organisation's own response.
 */
export function canEnableUser(
  actor: Actor,
  user: UserResource & { disabledByPartnerAdmin: boolean },
): Decision {
  const manage = canManageUser(actor, user);
  if (manage !== "allowed") return manage;
  return actor.permissions.has("users.manage") || user.disabledByPartnerAdmin ? "allowed" : "denied";
}

/**
 * Giving or taking a role, within your own reach: a tenant admin any role; a partner admin only `agent`, only for
 * their partner's agents. Nobody gives a role to themselves (as with grants: a taken-over admin account must not make
 * itself security_admin and read everyone's held mail); taking one of your own is left to the last-admin rule.
 */
export function canChangeRole(
  actor: Actor,
  user: UserResource,
  role: Role,
  change: "give" | "take",
): Decision {
  const visible = canSeeUser(actor, user);
  if (visible !== "allowed") return visible;
  if (change === "give" && user.id === actor.userId) return "denied";
  if (actor.permissions.has("users.manage")) return "allowed";
  return role === "agent" && partnerAgentOnly(user) ? "allowed" : "denied";
}

/** Creating a user with these roles in this partner group (null: in-house). */
export function canCreateUser(
  actor: Actor,
  input: { partnerId: string | null; roles: readonly Role[] },
): Decision {
  if (actor.permissions.has("users.manage")) return "allowed";
  if (!actor.permissions.has("users.manage_partner")) return "denied";
  if (!administersPartner(actor, input.partnerId)) return "denied";
  return input.roles.every((role) => role === "agent") ? "allowed" : "denied";
}

/**
 * Placing a new person in a team (`teamPartnerId`: the partner group the team belongs to, null for an in-house team or
 * one that does not exist): a tenant admin any team of the tenant; a partner admin only a team of the partner group
 * the person joins, and one they administer. An in-house team, or another partner's, is outside their reach (its lead
 * sees and releases its members' held mail); one that does not exist gets the same refusal, so team ids outside their
 * reach are not confirmed either.
 */
export function canPlaceInTeam(
  actor: Actor,
  placement: { teamPartnerId: string | null; partnerId: string | null },
): Decision {
  if (actor.permissions.has("users.manage")) return "allowed";
  if (!actor.permissions.has("users.manage_partner")) return "denied";
  const { teamPartnerId, partnerId } = placement;
  return teamPartnerId !== null && teamPartnerId === partnerId && administersPartner(actor, teamPartnerId)
    ? "allowed"
    : "denied";
}

/**
 * Moving a person into a team or out of it (`from`/`to`: the partner group of the team they leave and the one they
 * join, null for an in-house team; undefined for no team): a tenant admin anyone of their organisation; a partner admin
 * only their partner group's plain agents, and only between teams of that partner group (or none). Taking someone out
 * of an in-house team is the organisation's decision, as putting them in one is (canPlaceInTeam).
 */
export function canMoveToTeam(
  actor: Actor,
  move: { user: UserResource; from?: string | null; to?: string | null },
): Decision {
  const visible = canSeeUser(actor, move.user);
  if (visible !== "allowed") return visible;
  if (actor.permissions.has("users.manage")) return "allowed";
  if (!partnerAgentOnly(move.user)) return "denied";
  const partnerId = move.user.partnerId;
  for (const teamPartnerId of [move.from, move.to])
    if (teamPartnerId !== undefined && canPlaceInTeam(actor, { teamPartnerId, partnerId }) !== "allowed")
      return "denied";
  return "allowed";
}

/**
 * Whether a team fits a person (`partnerId`, `teamPartnerId`: the person's partner group and the team's, null for
 * in-house): only a team of their own group. A team lead sees and releases their members' held mail, so an in-house
 * person in a partner's team, or one partner's person in another's, would be read by the wrong lead. Holds for every
 * actor, tenant admins too (invitations and moves answer 409 team_group_mismatch).
 */
export function teamFitsPerson(partnerId: string | null, teamPartnerId: string | null): boolean {
  return partnerId === teamPartnerId;
}

/** What a team- or partner-scoped role reaches: a team (with its partner group, null in-house) or a partner group. */
export type RoleScopeTarget =
  { kind: "team"; teamPartnerId: string | null } | { kind: "partner"; partnerId: string };

/**
 * Whether a role's scope fits the person holding it (`partnerId`: their partner group, null in-house), as their team
 * must (teamFitsPerson): a team lead only of a team of their own group, an in-house person of an in-house team; a
 * partner admin of their own partner group. In-house staff may administer a partner group (the organisation's own
 * people, e.g. whoever manages the vendor: `scopeId` names the group), but a partner's person never administers
 * another partner's. Holds for every actor (409 role_scope_outside_group), and a row from before the rule reaches
 * nobody (loadActor marks it `inGroup: false`).
 */
export function roleScopeFitsPerson(partnerId: string | null, target: RoleScopeTarget): boolean {
  if (target.kind === "team") return teamFitsPerson(partnerId, target.teamPartnerId);
  return partnerId === null || partnerId === target.partnerId;
}

/**
 * Whether a partner-scoped role (partner_admin) names a group it reaches: the given `scopeId`, else the person's own
 * (`partnerId`). An in-house person has no group of their own, and cannot join one while they hold the role
 * (refuseRolesTiedToGroup), so a grant without a scopeId would administer nobody, now or later: 400
 * role_scope_required. A team lead without a team differs: "their own team" follows them into the team they are
 * placed in next (moveUser), so that grant is accepted and reaches that team from then on.
 */
export function partnerScopeNamed(partnerId: string | null, scopeId: string | null): boolean {
  return scopeId !== null || partnerId !== null;
}

/**
 * Changing a person's partner group (PATCH /api/admin/users/:id {partnerId}): whose partner admin manages them and
 * which teams they may be in. Tenant admins only (`users.manage`): a partner admin would hand people between partner
 * groups, or take them out of the organisation's reach. Nobody changes their own (as with addresses and grants).
 */
export function canChangePartnerGroup(actor: Actor, user: UserResource): Decision {
  const visible = canSeeUser(actor, user);
  if (visible !== "allowed") return visible;
  if (user.id === actor.userId) return "denied";
  return actor.permissions.has("users.manage") ? "allowed" : "denied";
}

/** What already holds an address someone tried to invite: a person (as their own address), an alias or a group. */
export type AddressHolder = { kind: "person"; user: UserResource } | { kind: "alias" | "group" };

/**
 * Whether an inviting admin may be told that the address is taken, and by what (409 already_exists): a tenant admin
 * always; a partner admin only when it is the address of someone they can see (their partner group's people). An
 * address of someone outside their reach (in-house, another partner group's), an alias or a group's address gets
 * instead the plain 403 forbidden of any invitation outside their reach, so inviting addresses does not map out who
 * exists beyond their partner group. A refusal still differs from a success, but it names and confirms nobody.
 */
export function canLearnAddressHolder(actor: Actor, holder: AddressHolder): Decision {
  if (actor.permissions.has("users.manage")) return "allowed";
  return holder.kind === "person" && canSeeUser(actor, holder.user) === "allowed" ? "allowed" : "denied";
}

/**
 * Linking an account to a Microsoft Entra identity (an object id): whoever signs in as that identity gets the
 * address's mail, and nothing proves the identity is the address's owner, so only tenant admins decide it. A partner
 * admin could otherwise tie an unprovisioned address of the organisation to an identity their partner controls.
 * Their agents come in by the emailed invitation (which proves the address), by Entra sign-in or the directory sync.
 */
export function canLinkEntraIdentity(actor: Actor): Decision {
  return actor.permissions.has("users.manage") ? "allowed" : "denied";
}

/**
 * Granting a permission outside roles (archive.read_any, held.read_any): tenant
 * admins only, and never to themselves (a taken-over admin account cannot give
 * itself everyone's mail).
 */
export function canGrantPermission(actor: Actor, user: UserResource): Decision {
  const visible = canSeeUser(actor, user);
  if (visible !== "allowed") return visible;
  if (!actor.permissions.has("users.manage")) return "denied";
  return user.id === actor.userId ? "denied" : "allowed";
}

/**
 * Giving a person another address, or taking it away: mail to it becomes theirs (its held messages too) and they
 * may send from it, so only tenant admins decide it (a partner admin could otherwise route the tenant's mail to
 * their own agents), and never for themselves.
 */
export function canManageAddresses(actor: Actor, user: UserResource): Decision {
  const visible = canSeeUser(actor, user);
  if (visible !== "allowed") return visible;
  if (user.id === actor.userId) return "denied";
  return actor.permissions.has("users.manage") ? "allowed" : "denied";
}
