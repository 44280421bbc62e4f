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
});
/** The Graph status of a tenant. */
export type GraphStatus = z.infer<typeof graphStatus>;
