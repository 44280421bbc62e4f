import type { RouteSpec } from "../http/route-table";
import { senderListRoutes } from "./senders";

/** The organisation's block and permit list (security and tenant admins). */
export const adminSenderRoutes: RouteSpec[] = senderListRoutes(
  "/api/admin/senders",
  "tenant",
  "senders.manage_org",
  "admin-senders",
);
