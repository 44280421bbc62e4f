import type { AdminUser } from "../../shared/schemas/admin";
import type { GrantablePermission } from "../../shared/permissions";
import type { AdminUserRecord } from "../commands/users/queries";

/** The admin API's view of a user: roles with reach, grants, which sign-in factors exist (never the secrets). */
export function presentAdminUser(user: AdminUserRecord, now: Date): AdminUser {
  return {
    id: user.id,
    email: user.email,
    displayName: user.displayName,
    roles: user.assignments,
    grants: user.grants.map((g) => ({
      permission: g.permission as GrantablePermission,
      reason: g.reason,
      grantedBy: g.grantedBy,
      expiresAt: g.expiresAt?.toISOString() ?? null,
      createdAt: g.createdAt.toISOString(),
    })),
    teamId: user.teamId,
    partnerId: user.partnerId,
    disabled: user.disabledAt !== null,
    locked: user.lockedUntil !== null && user.lockedUntil > now,
    signIn: {
      password: user.hasPassword,
      totp: user.totpEnabled,
      entra: user.entraOid !== null,
      smtpPasswords: user.smtpPasswords,
    },
    addresses: user.addresses,
    lastSignInAt: user.lastSignInAt?.toISOString() ?? null,
    createdAt: user.createdAt.toISOString(),
  };
}
