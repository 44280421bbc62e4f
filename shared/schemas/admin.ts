import { z } from "zod";
import { GRANTABLE_PERMISSIONS, ROLES, SCOPES } from "../permissions";
import { listOf } from "./common";

/** An ISO-8601 timestamp as the API sends it. */
const isoTime = z.iso.datetime({ offset: true });

/** One role a user holds, with its reach. */
export const roleAssignment = z.object({
  role: z.enum(ROLES),
  scope: z.enum(SCOPES),
  scopeId: z.uuid().nullable(),
});

/** A permission granted on purpose (outside roles), e.g. archive.read_any for an investigation. */
export const permissionGrant = z.object({
  permission: z.enum(GRANTABLE_PERMISSIONS),
  reason: z.string(),
  grantedBy: z.uuid().nullable(),
  expiresAt: isoTime.nullable(),
  createdAt: isoTime,
});

/** A user as the admin API shows it (no secrets: only whether factors exist). */
export const adminUser = z.object({
  id: z.uuid(),
  email: z.string(),
  displayName: z.string(),
  roles: z.array(roleAssignment),
  grants: z.array(permissionGrant),
  teamId: z.uuid().nullable(),
  partnerId: z.uuid().nullable(),
  disabled: z.boolean(),
  locked: z.boolean(),
  /** Which sign-in factors exist, and how many SMTP passwords (devices sending as the person) are in force. */
  signIn: z.object({
    password: z.boolean(),
    totp: z.boolean(),
    entra: z.boolean(),
    smtpPasswords: z.number().int().min(0),
  }),
  /** Other addresses of the person (aliases): their mail too, and they may send from them. */
  addresses: z.array(z.string()),
  lastSignInAt: isoTime.nullable(),
  createdAt: isoTime,
});
/** A user in the admin API. */
export type AdminUser = z.infer<typeof adminUser>;

/** GET /api/admin/users answer. */
export const adminUserList = listOf(adminUser);

/** GET /api/admin/users query: paging, a search over email/name, and filters. */
export const adminUsersQuery = z.object({
  // The cursor carries the last address (320 characters, up to 4 bytes each in UTF-8, then base64): longer than others'.
  cursor: z.string().max(2000).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  q: z.string().trim().max(200).optional(),
  role: z.enum(ROLES).optional(),
  status: z.enum(["active", "disabled"]).optional(),
});
/** Parsed GET /api/admin/users query. */
export type AdminUsersQuery = z.infer<typeof adminUsersQuery>;

/** POST /api/admin/users: invite a local user (emailed set-password link) or pre-provision an Entra user by oid. */
export const inviteUserBody = z.object({
  email: z.email().max(320),
  displayName: z.string().trim().min(1).max(200).optional(),
  roles: z.array(z.enum(ROLES)).min(1).max(6).default(["agent"]),
  teamId: z.uuid().nullable().optional(),
  partnerId: z.uuid().nullable().optional(),
  /** Links the user to an Entra person (object id); no invitation mail is sent then. Tenant admins only (403). */
  entraOid: z.uuid().optional(),
});
/** Input of an invitation. */
export type InviteUserBody = z.infer<typeof inviteUserBody>;

/**
 * POST /api/admin/users/:id/roles. `scopeId` is the team (team_lead) or partner (partner_admin); default the user's own.
 * It must be of the person's own partner group (409 role_scope_outside_group). In-house staff may administer whichever
 * group is named, and one must be: an in-house person's partner_admin without scopeId is a 400 role_scope_required.
 */
export const assignRoleBody = z.object({
  role: z.enum(ROLES),
  scopeId: z.uuid().optional(),
});
/** Input of a role assignment. */
export type AssignRoleBody = z.infer<typeof assignRoleBody>;

/** DELETE /api/admin/users/:id/roles/:role path. */
export const userRoleParams = z.object({ id: z.uuid(), role: z.enum(ROLES) });

/** POST /api/admin/users/:id/grants: grant reading others' mail on purpose, with a reason and an optional expiry. */
export const grantPermissionBody = z.object({
  permission: z.enum(GRANTABLE_PERMISSIONS),
  reason: z.string().trim().min(5).max(500),
  expiresAt: isoTime.optional(),
});
/** Input of a permission grant. */
export type GrantPermissionBody = z.infer<typeof grantPermissionBody>;

/** DELETE /api/admin/users/:id/grants/:permission path. */
export const userGrantParams = z.object({ id: z.uuid(), permission: z.enum(GRANTABLE_PERMISSIONS) });

/** GET /api/admin/audit query: filters, paging, and `format=csv` for an export (audit.export). */
export const auditQuery = z.object({
  cursor: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** The actor's user id or email (label). */
  actor: z.string().trim().min(1).max(320).optional(),
  /** An action (`auth.sign_in`) or a prefix ending with `*` (`auth.*`). */
  action: z
    .string()
    .trim()
    .regex(/^[a-z0-9_.]+\*?$/, "an action such as auth.sign_in, or a prefix such as auth.*")
    .max(100)
    .optional(),
  /** The target's id. */
  target: z.string().trim().min(1).max(200).optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  format: z.enum(["json", "csv"]).default("json"),
});
/** Parsed GET /api/admin/audit query. */
export type AuditQuery = z.infer<typeof auditQuery>;

/** One audit event as listed. */
export const auditEvent = z.object({
  seq: z.number().int(),
  at: isoTime,
  actorId: z.uuid().nullable(),
  actor: z.string(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
  hash: z.string(),
});

/** GET /api/admin/audit answer (JSON). */
export const auditList = listOf(auditEvent);

/** GET /api/admin/audit/verify answer: ok, or the first broken link. */
export const auditVerification = z.object({
  ok: z.boolean(),
  checked: z.number().int(),
  firstBroken: z.object({ seq: z.number().int(), reason: z.string() }).nullable(),
});

/** POST /api/admin/users/:id/addresses: another address of the person, in one of the organisation's domains. */
export const userAddressBody = z
  .object({ address: z.string().trim().toLowerCase().pipe(z.email().max(320)) })
  .strict();
/** Parsed POST /api/admin/users/:id/addresses body. */
export type UserAddressBody = z.infer<typeof userAddressBody>;

/** DELETE /api/admin/users/:id/addresses/:address path. */
export const userAddressParams = z.object({
  id: z.uuid(),
  address: z.string().toLowerCase().pipe(z.email().max(320)),
});

/**
 * PATCH /api/admin/users/:id: move a person into a team (its id) or out of their team (null), and/or (tenant admins only)
 * into another partner group (its id; null: in-house). The team must be of the person's resulting group; a new group
 * without a teamId takes them out of their team.
 */
export const updateUserBody = z
  .object({ teamId: z.uuid().nullable().optional(), partnerId: z.uuid().nullable().optional() })
  .strict()
  .refine(
    (change) => change.teamId !== undefined || change.partnerId !== undefined,
    "give teamId, partnerId or both",
  );
/** Parsed PATCH /api/admin/users/:id body. */
export type UpdateUserBody = z.infer<typeof updateUserBody>;
