/**
 * The single source of truth for what each role may do. Policies in
 * server/policies read this table; the add-in reads it to hide actions.
 */
export const ROLES = [
  "agent",
  "team_lead",
  "security_admin",
  "auditor",
  "partner_admin",
  "tenant_admin",
] as const;
/** A role a user can be assigned. */
export type Role = (typeof ROLES)[number];

/** How far a role assignment reaches. */
export const SCOPES = ["own", "team", "partner", "tenant"] as const;
/** A scope of a role assignment. */
export type Scope = (typeof SCOPES)[number];

export const PERMISSIONS = [
  "held.read_own",
  "held.act_own",
  "held.read_team",
  "held.release_team",
  "held.read_any",
  "held.approve_release",
  "senders.manage_own",
  "senders.manage_org",
  "reports.create",
  "reports.triage",
  "archive.read_own",
  "archive.read_any",
  "archive.export",
  "archive.legal_hold",
  "users.read",
  "users.manage",
  "users.manage_partner",
  "policies.read",
  "policies.manage",
  "audit.read",
  "audit.export",
  "stats.read",
  "mail.trace",
  "mail.queue",
] as const;
/** One thing a person may do. */
export type Permission = (typeof PERMISSIONS)[number];

/**
 * Role → permissions. Admin roles do not include reading other people's mail:
 * `archive.read_any` / `held.read_any` are granted on purpose, and audited.
 */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  agent: ["held.read_own", "held.act_own", "senders.manage_own", "reports.create", "archive.read_own"],
  team_lead: [
    "held.read_own",
    "held.act_own",
    "held.read_team",
    "held.release_team",
    "senders.manage_own",
    "reports.create",
    "archive.read_own",
  ],
  security_admin: [
    "held.read_own",
    "held.act_own",
    "held.approve_release",
    "senders.manage_own",
    "senders.manage_org",
    "reports.create",
    "reports.triage",
    "archive.read_own",
    "policies.read",
    "policies.manage",
    "stats.read",
    "mail.trace",
    "mail.queue",
  ],
  auditor: ["held.read_own", "archive.read_own", "audit.read", "audit.export", "policies.read", "stats.read"],
  partner_admin: [
    "held.read_own",
    "held.act_own",
    "senders.manage_own",
    "reports.create",
    "archive.read_own",
    "users.read",
    "users.manage_partner",
  ],
  tenant_admin: [
    "held.read_own",
    "held.act_own",
    "senders.manage_own",
    "senders.manage_org",
    "reports.create",
    "archive.read_own",
    "archive.export",
    "archive.legal_hold",
    "users.read",
    "users.manage",
    "policies.read",
    "policies.manage",
    "audit.read",
    "stats.read",
    "mail.trace",
    "mail.queue",
  ],
};

/** The permissions granted by a set of roles, deduplicated and sorted. */
export function permissionsFor(roles: readonly Role[]): Permission[] {
  const granted = new Set<Permission>();
  for (const role of roles) for (const permission of ROLE_PERMISSIONS[role]) granted.add(permission);
  return [...granted].sort();
}

/**
 * Permissions no role carries: an admin grants them to one person on purpose
 * (recorded, audited, optionally expiring), so reading others' mail is never a side effect of a role.
 */
export const GRANTABLE_PERMISSIONS = [
  "archive.read_any",
  "held.read_any",
] as const satisfies readonly Permission[];
/** A permission granted on purpose, outside any role. */
export type GrantablePermission = (typeof GRANTABLE_PERMISSIONS)[number];

/** Roles whose local accounts must use TOTP: anything that can change policy, users, or read the record. */
export const MFA_REQUIRED_ROLES: readonly Role[] = [
  "security_admin",
  "auditor",
  "partner_admin",
  "tenant_admin",
];
