import { z } from "zod";

/** How a tenant's mail is protected: the SMTP gateway, Microsoft Graph (API mode), or both. */
export const tenantMode = z.enum(["gateway", "graph", "both"]);
/** A tenant mode. */
export type TenantMode = z.infer<typeof tenantMode>;

/** PUT /api/admin/graph/mode */
export const setTenantModeBody = z.object({ mode: tenantMode });

/** One enrolled mailbox as the admin status shows it (no secrets: no clientState, no delta links). */
export const graphMailboxStatus = z.object({
  address: z.string(),
  monitored: z.boolean(),
  quarantineFolder: z.boolean(),
  syncedAt: z.string().nullable(),
  subscriptions: z.array(z.object({ folder: z.enum(["inbox", "sentitems"]), expiresAt: z.string() })),
});

/** What the directory sync did for the tenant in its last round (kept in the database, so every instance answers). */
export const directoryRound = z.object({
  at: z.string(),
  listed: z.number().int(),
  created: z.number().int(),
  linked: z.number().int(),
  updated: z.number().int(),
  aliasesAdded: z.number().int(),
  aliasesRemoved: z.number().int(),
  /** Accounts of people who left the directory, disabled (sessions ended, SMTP passwords revoked). */
  disabled: z.number().int(),
  /** Accounts an admin had disabled already whose person has now left the directory: their mail is refused too. */
  markedLeft: z.number().int(),
  /** People missing from the directory whose accounts were kept enabled: too many at once, or the last tenant admin. */
  leaversWithheld: z.number().int(),
  groupAddressesAdded: z.number().int(),
  groupAddressesRemoved: z.number().int(),
  /** People added to and removed from groups' members (whose held group mail they see and release). */
  groupMembersAdded: z.number().int(),
  groupMembersRemoved: z.number().int(),
  /** The directory could not be listed (users or groups): what it could not list stayed as it was. */
  failed: z.boolean(),
  /** Addresses the sync left out because they are someone else's, and why: for IT to resolve in Entra or Mailward. */
  conflicts: z.array(
    z.object({ address: z.string(), reason: z.enum(["address_taken", "address_is_alias"]) }),
  ),
});

/** The directory sync's state for a tenant: whether it runs, its last round, and the group addresses it keeps. */
export const directoryStatus = z.object({
  sync: z.boolean(),
  lastRound: directoryRound.nullable(),
  groups: z.array(z.object({ address: z.string(), displayName: z.string() })),
});

/** GET /api/admin/graph: the mode, whether the connector is configured, mailboxes and backlog. */
export const graphStatus = z.object({
  mode: tenantMode,
  configured: z.boolean(),
  notificationUrl: z.string().nullable(),
  mailboxes: z.array(graphMailboxStatus),
  backlog: z.object({
    notifications: z.number().int(),
    actions: z.number().int(),
    failedActions: z.number().int(),
  }),
  directory: directoryStatus,
});
/** The Graph status of a tenant. */
export type GraphStatus = z.infer<typeof graphStatus>;
