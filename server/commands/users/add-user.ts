import { randomBytes } from "node:crypto";
import { auditActor, runCommand, type Actor, type Services } from "../../context";
import { appendAudit } from "../../audit/log";
import { hashPassword } from "../../auth/passwords";
import { assertPasswordAcceptable, passwordPolicyFrom } from "../../auth/password-policy";
import { ApiError } from "../../http/errors";
import type { Role } from "../../../shared/permissions";
import { scopeFor } from "./role-scope";
import { refuseAddressInOtherOrganisationDomain, refuseAliasClash } from "./addresses";
import { refuseTeamOfAnotherGroup, teamWithGroup } from "./team-group";
import { assertPartnerOfTenant } from "../organisation/queries";
import { claimAddresses } from "./address-owner";

/** Input for creating a local or Entra-linked user. */
export interface AddUserInput {
  email: string;
  displayName?: string;
  roles: Role[];
  password?: string | null;
  generatePassword?: boolean;
  teamId?: string | null;
  partnerId?: string | null;
  entraOid?: string | null;
}

/** The created user and, when one was generated, the password to hand over once. */
export interface AddUserResult {
  id: string;
  email: string;
  roles: Role[];
  generatedPassword: string | null;
}

/**
 * Creates a user in the actor's tenant with roles (the CLI's `user add`); each role gets its natural scope. As for an
 * invitation, the address must not be in a domain another organisation has verified (409
 * address_in_other_organisation_domain). A team must be of the person's partner group (409 team_group_mismatch); an
 * in-house partner_admin, who would administer no group, is refused (400 role_scope_required, telling what to do
 * instead). Audited.
 */
export async function addUser(
  services: Services,
  actor: Actor,
  ip: string | null,
  input: AddUserInput,
): Promise<AddUserResult> {
  const email = input.email.trim().toLowerCase();
  const generatedPassword =
    input.generatePassword && !input.password ? randomBytes(15).toString("base64url") : null;
  const password = input.password ?? generatedPassword;
  if (password !== null && password !== undefined && !generatedPassword) {
    assertPasswordAcceptable(password, passwordPolicyFrom(services.config), { email });
  }
  const passwordHash = password ? await hashPassword(password) : null;
  const added = await runCommand(services, actor, ip, async ({ trx, now }) => {
    await refuseAddressInOtherOrganisationDomain(trx, actor.tenantId, email);
    await claimAddresses(trx, [email]);
    const clash = await trx
      .selectFrom("users")
      .select("id")
      .where("tenant_id", "=", actor.tenantId)
      .where((eb) =>
        eb.or([
          eb(eb.fn("lower", ["email"]), "=", email),
          ...(input.entraOid ? [eb("entra_oid", "=", input.entraOid.toLowerCase())] : []),
        ]),
      )
      .executeTakeFirst();
    if (clash) throw new ApiError("already_exists", `A user ${email} already exists.`);
    await refuseAliasClash(trx, email);
    if (input.partnerId) await assertPartnerOfTenant(trx, actor.tenantId, input.partnerId);
    if (input.teamId) {
      const team = await teamWithGroup(trx, actor.tenantId, input.teamId);
      if (!team) throw new ApiError("invalid_request", "No such team in your organisation.");
      const person = { who: input.displayName ?? email, partnerId: input.partnerId ?? null };
      await refuseTeamOfAnotherGroup(trx, actor.tenantId, person, team);
    }
    const user = await trx
      .insertInto("users")
      .values({
        tenant_id: actor.tenantId,
        email,
        display_name: input.displayName ?? email.split("@")[0] ?? email,
        password_hash: passwordHash,
        entra_oid: input.entraOid?.toLowerCase() ?? null,
        team_id: input.teamId ?? null,
        partner_id: input.partnerId ?? null,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    for (const role of [...new Set(input.roles)]) {
      const person = {
        who: input.displayName ?? email,
        teamId: input.teamId ?? null,
        partnerId: input.partnerId ?? null,
      };
      const { scope, scopeId } = await scopeFor(trx, actor.tenantId, role, person, "cli");
      await trx
        .insertInto("role_assignments")
        .values({ tenant_id: actor.tenantId, user_id: user.id, role, scope, scope_id: scopeId })
        .execute();
    }
    await appendAudit(trx, {
      tenantId: actor.tenantId,
      ...auditActor(actor),
      action: "user.created",
      targetType: "user",
      targetId: user.id,
      details: { email, roles: input.roles, ...(input.entraOid ? { entraOid: input.entraOid } : {}) },
      ip,
      at: now,
    });
    return { id: user.id, email, roles: input.roles, generatedPassword };
  });
  // The gateway's impersonation check knows the new colleague from the next message.
  services.signals.organisationChanged(actor.tenantId);
  return added;
}
