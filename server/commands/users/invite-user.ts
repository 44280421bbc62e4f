import { actorLabel, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { ApiError, errors } from "../../http/errors";
import { authorize } from "../../policies/authorize";
import {
  canCreateUser,
  canLearnAddressHolder,
  canLinkEntraIdentity,
  canPlaceInTeam,
  userReach,
} from "../../policies/users";
import type { InviteUserBody } from "../../../shared/schemas/admin";
import { issuePasswordLink } from "../auth/password-reset";
import { findUserForAdmin, type AdminUserRecord } from "./queries";
import { assertPartnerOfTenant } from "../organisation/queries";
import { scopeFor } from "./role-scope";
import { refuseAddressInOtherOrganisationDomain, refuseAliasClash } from "./addresses";
import { addressOwner, claimAddresses } from "./address-owner";
import { refuseTeamOfAnotherGroup, teamWithGroup } from "./team-group";

/**
 * POST /api/admin/users: creates a person within the actor's reach, at an address that is not in a domain another
 * organisation has verified (409 address_in_other_organisation_domain, for partner admins too: it names nobody). A
 * partner admin's invitee always lands in their partner group, as an agent, and only in a team of that group
 * (canPlaceInTeam). Anyone's invitee goes only into a team of the partner group they join, an in-house one into an
 * in-house team (409 team_group_mismatch, for tenant admins too: refuseTeamOfAnotherGroup). An address already
 * someone's outside a partner admin's reach answers their plain 403, not 409 already_exists (canLearnAddressHolder),
 * so it does not confirm an in-house account. A local account gets an emailed single-use link to choose a password
 * (through the delivery queue); an Entra person (entraOid) signs in with Microsoft, and only a tenant admin may link
 * one (canLinkEntraIdentity: 403 for a partner admin). An address being claimed at that moment (an alias, the
 * directory sync, another invitation) is waited for (claimAddresses), then refused as it would be a moment later.
 * Audited.
 */
export async function inviteUser(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: InviteUserBody,
): Promise<AdminUserRecord> {
  const reach = userReach(actor);
  const partnerId =
    reach.kind === "partners" ? (input.partnerId ?? reach.partnerIds[0] ?? null) : (input.partnerId ?? null);
  const roles = [...new Set(input.roles)];
  authorize(actor, canCreateUser, { partnerId, roles });
  if (input.entraOid !== undefined && canLinkEntraIdentity(actor) !== "allowed")
    throw errors.forbidden(
      "Only a tenant admin can link an account to a Microsoft Entra identity. Leave out entraOid: the person gets an emailed invitation.",
    );
  const email = input.email.trim().toLowerCase();
  const created = await runCommand(services, actor, ip, async ({ trx, now }) => {
    const teamId = input.teamId ?? null;
    if (partnerId) await assertPartnerOfTenant(trx, actor.tenantId, partnerId);
    if (teamId) {
      const team = await teamWithGroup(trx, actor.tenantId, teamId);
      authorize(actor, canPlaceInTeam, { teamPartnerId: team?.partnerId ?? null, partnerId });
      if (!team) throw new ApiError("invalid_request", "No such team in your organisation.");
      await refuseTeamOfAnotherGroup(
        trx,
        actor.tenantId,
        { who: input.displayName ?? email, partnerId },
        team,
      );
    }
    // Before looking at who holds the address: the answer depends on the domain only, so it confirms no account.
    await refuseAddressInOtherOrganisationDomain(trx, actor.tenantId, email);
    await claimAddresses(trx, [email]);
    const clash = await trx
      .selectFrom("users")
      .select(["id", "tenant_id", "partner_id"])
      .where("tenant_id", "=", actor.tenantId)
      .where((eb) =>
        eb.or([
          eb(eb.fn("lower", ["email"]), "=", email),
          ...(input.entraOid ? [eb("entra_oid", "=", input.entraOid.toLowerCase())] : []),
        ]),
      )
      .executeTakeFirst();
    if (clash) {
      const user = { id: clash.id, tenantId: clash.tenant_id, partnerId: clash.partner_id, roles: [] };
      authorize(actor, canLearnAddressHolder, { kind: "person", user });
      throw new ApiError("already_exists", `A user ${email} already exists.`);
    }
    const holder = await addressOwner(trx, email);
    if (holder?.kind === "alias" || holder?.kind === "group")
      authorize(actor, canLearnAddressHolder, { kind: holder.kind });
    await refuseAliasClash(trx, email, actor.tenantId);
    const user = await trx
      .insertInto("users")
      .values({
        tenant_id: actor.tenantId,
        email,
        display_name: input.displayName ?? email.split("@")[0] ?? email,
        entra_oid: input.entraOid?.toLowerCase() ?? null,
        team_id: teamId,
        partner_id: partnerId,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    for (const role of roles) {
      const who = input.displayName ?? email;
      const { scope, scopeId } = await scopeFor(
        trx,
        actor.tenantId,
        role,
        { who, teamId, partnerId },
        "invite",
      );
      await trx
        .insertInto("role_assignments")
        .values({ tenant_id: actor.tenantId, user_id: user.id, role, scope, scope_id: scopeId })
        .execute();
    }
    const invited = !input.entraOid;
    if (invited)
      await issuePasswordLink(trx, services, { id: user.id, tenantId: actor.tenantId, email }, "invite", now);
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      actorId: actor.userId,
      actorLabel: actorLabel(actor),
      action: "user.invited",
      targetType: "user",
      targetId: user.id,
      details: { email, roles, teamId, partnerId, signIn: invited ? "local" : "entra" },
      ip,
      at: now,
    });
    return findUserForAdmin(trx, actor.tenantId, user.id);
  });
  if (!created) throw new ApiError("internal_error");
  services.signals.deliveriesQueued();
  // The gateway's impersonation check knows the new colleague from the next message.
  services.signals.organisationChanged(actor.tenantId);
  return created;
}
