import type { Actor } from "../context";
import type { Decision } from "./authorize";
import { leadsTeam } from "./authorize";
import { isReviewOnlyHold } from "../../shared/schemas/held";

/** What a held-item policy needs to know about the item and its recipient. */
export interface HeldResource {
  tenantId: string;
  userId: string | null;
  recipientTeamId: string | null;
  /** The partner group the recipient's team belongs to (null: an in-house team, or no team). */
  recipientTeamPartnerId: string | null;
  recipientPartnerId: string | null;
  reason: string;
  /** Held by the organisation's block list (`blocked_sender` from a tenant rule): IT's decision, not the recipient's. */
  orgBlock: boolean;
  /** Sent to a group (no user of its own) that the actor is a member of: the actor's to read, release or request. */
  groupMember: boolean;
}

function sameTenant(actor: Actor, tenantId: string): boolean {
  return actor.tenantId === tenantId;
}

/** Group mail to a group the actor is in: as much theirs as their own mail, for reading and releasing. */
function viaGroup(item: HeldResource): boolean {
  return item.userId === null && item.groupMember;
}

/**
 * The team whose lead reaches the recipient: their team only while it belongs to their own partner group (both null:
 * in-house). Invitations and moves keep the two in step (teamFitsPerson); a row from before that rule, an in-house
 * person in a partner's team say, reaches no team's lead, so the partner's lead never sees an in-house person's mail.
 */
function reachableTeamOf(item: HeldResource): string | null {
  return item.recipientTeamPartnerId === item.recipientPartnerId ? item.recipientTeamId : null;
}

/** Addressed to the actor: their own, or a group's they are in. */
function addressedTo(actor: Actor, item: HeldResource): boolean {
  return item.userId === actor.userId || viaGroup(item);
}

/** How far reading others' mail reaches (a grant on purpose, or a security admin's review): see readAnyReachOf. */
export type ReadAnyReach = { kind: "tenant" } | { kind: "groups"; teamIds: string[]; partnerIds: string[] };

/**
 * The reach of `archive.read_any` / `held.read_any` for this actor, the same for the archive and the quarantine: the
 * whole tenant with a tenant-wide role; the teams and partner groups a team- or partner-scoped role covers; for an
 * own-scoped person the tenant, except that a partner (BPO) user never reaches beyond their partner group. A scope
 * outside the person's own group (RoleGrant.inGroup false) covers nobody, and does not make them own-scoped either:
 * an in-house person with only such a scope reaches no one else's mail, not the tenant.
 */
export function readAnyReachOf(actor: Actor): ReadAnyReach {
  if (actor.grants.some((g) => g.scope === "tenant")) return { kind: "tenant" };
  const idsOf = (scope: "team" | "partner", own: string | null) => [
    ...new Set(
      actor.grants
        .filter((g) => g.inGroup && g.scope === scope)
        .map((g) => g.scopeId ?? own)
        .filter((id): id is string => Boolean(id)),
    ),
  ];
  const teamIds = idsOf("team", actor.teamId);
  const partnerIds = idsOf("partner", actor.partnerId);
  if (teamIds.length === 0 && partnerIds.length === 0) {
    if (actor.partnerId) partnerIds.push(actor.partnerId);
    else if (!actor.grants.some((g) => !g.inGroup)) return { kind: "tenant" };
  }
  return { kind: "groups", teamIds, partnerIds };
}

/**
 * How far this person sees others' mail, as GET /api/me tells the portal (which names the organisation's held list by
 * it): null without `held.read_any`, `archive.read_any` or a security admin's review; else readAnyReachOf's kind.
 */
export function othersReachOf(actor: Actor): "organisation" | "groups" | null {
  const reads =
    actor.permissions.has("held.read_any") ||
    actor.permissions.has("held.approve_release") ||
    actor.permissions.has("archive.read_any");
  if (!reads) return null;
  return readAnyReachOf(actor).kind === "tenant" ? "organisation" : "groups";
}

/** Whether that reach covers a held item's recipient (group mail, with no person, only a tenant-wide reach). */
function readAnyCovers(actor: Actor, item: HeldResource): boolean {
  const reach = readAnyReachOf(actor);
  if (reach.kind === "tenant") return true;
  const team = reachableTeamOf(item);
  return (
    (team !== null && reach.teamIds.includes(team)) ||
    (item.recipientPartnerId !== null && reach.partnerIds.includes(item.recipientPartnerId))
  );
}

/**
 * Reading a held item: your own or your group's; a team lead their team's (members of the team's own partner group:
 * reachableTeamOf); `held.read_any` (granted on purpose) and a security admin (`held.approve_release`) any within
 * their reach (readAnyReachOf).
 */
export function canReadHeld(actor: Actor, item: HeldResource): Decision {
  if (!sameTenant(actor, item.tenantId)) return "hidden";
  if (addressedTo(actor, item) && actor.permissions.has("held.read_own")) return "allowed";
  if (actor.permissions.has("held.read_team") && leadsTeam(actor, reachableTeamOf(item))) return "allowed";
  if (
    (actor.permissions.has("held.read_any") || actor.permissions.has("held.approve_release")) &&
    readAnyCovers(actor, item)
  )
    return "allowed";
  return "hidden";
}

/**
 * Releasing: the recipient or a member of the group it was sent to (not phish/malware, nor what the organisation's
 * block list held: isReviewOnlyHold), a team lead for their team (moderated: same exceptions), or a security admin
 * approving any.
 */
export function canReleaseHeld(actor: Actor, item: HeldResource): Decision {
  const visible = canReadHeld(actor, item);
  if (visible !== "allowed") return visible;
  if (actor.permissions.has("held.approve_release")) return "allowed";
  if (isReviewOnlyHold(item)) return "denied";
  if (addressedTo(actor, item) && actor.permissions.has("held.act_own")) return "allowed";
  if (actor.permissions.has("held.release_team") && leadsTeam(actor, reachableTeamOf(item))) return "allowed";
  return "denied";
}

/**
 * Blocking or permitting the sender on someone's behalf: only the recipient themself (team leads never; nor a
 * group's members, whose personal lists do not apply to the group's mail).
 */
export function canChangeSenderListFor(actor: Actor, item: HeldResource): Decision {
  const visible = canReadHeld(actor, item);
  if (visible !== "allowed") return visible;
  return item.userId === actor.userId && actor.permissions.has("senders.manage_own") ? "allowed" : "denied";
}

/**
 * Asking for a release (holds only a security admin releases: isReviewOnlyHold): only the recipient, or a member of
 * the group it was sent to.
 */
export function canRequestRelease(actor: Actor, item: HeldResource): Decision {
  const visible = canReadHeld(actor, item);
  if (visible !== "allowed") return visible;
  return addressedTo(actor, item) ? "allowed" : "denied";
}

/** What an archive-message policy needs: its tenant and whose mailboxes hold it. */
export interface ArchiveResource {
  tenantId: string;
  ownerUserIds: string[];
}

/** Reading an archived message: your own mailbox links, or `archive.read_any` in your tenant (audited by the caller). */
export function canReadArchived(actor: Actor, message: ArchiveResource): Decision {
  if (!sameTenant(actor, message.tenantId)) return "hidden";
  if (message.ownerUserIds.includes(actor.userId) && actor.permissions.has("archive.read_own"))
    return "allowed";
  if (actor.permissions.has("archive.read_any")) return "allowed";
  return "hidden";
}

/** A sender rule: personal rules belong to their user; organisation rules to `senders.manage_org`. */
export interface SenderRuleResource {
  tenantId: string;
  scope: "user" | "tenant";
  userId: string | null;
}

/** Changing or deleting a sender rule. */
export function canManageSenderRule(actor: Actor, rule: SenderRuleResource): Decision {
  if (!sameTenant(actor, rule.tenantId)) return "hidden";
  if (rule.scope === "user")
    return rule.userId === actor.userId && actor.permissions.has("senders.manage_own") ? "allowed" : "hidden";
  if (actor.permissions.has("senders.manage_org")) return "allowed";
  return "hidden";
}
