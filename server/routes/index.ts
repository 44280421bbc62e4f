import type { RouteSpec } from "../http/route-table";
import { digestRoutes } from "./digest-links";
import { reportRoutes } from "./reports";
import { adminReportRoutes } from "./admin-reports";
import { archiveRoutes } from "./archive";
import { adminRetentionRoutes } from "./admin-retention";
import { heldRoutes } from "./held";
import { senderRoutes } from "./senders";
import { adminSenderRoutes } from "./admin-senders";
import { authRoutes } from "./auth";
import { meRoutes } from "./me";
import { smtpPasswordRoutes } from "./smtp-passwords";
import { adminUserRoutes } from "./admin-users";
import { adminUserAddressRoutes } from "./admin-user-addresses";
import { adminOrganisationRoutes } from "./admin-organisation";
import { adminAuditRoutes } from "./admin-audit";
import { adminTraceRoutes } from "./admin-trace";
import { adminQueueRoutes } from "./admin-queue";
import { adminClassifierRoutes } from "./admin-classifier";
import { adminSettingsRoutes } from "./admin-settings";
import { adminDomainRoutes } from "./admin-domains";
import { adminGraphRoutes } from "./admin-graph";

/**
 * Every /api route, one list per area. The OpenAPI document and the access
 * matrix test are generated from this table, so a route cannot skip either.
 */
export const apiRoutes: RouteSpec[] = [
  ...authRoutes,
  ...meRoutes,
  ...smtpPasswordRoutes,
  ...adminUserRoutes,
  ...adminUserAddressRoutes,
  ...adminOrganisationRoutes,
  ...adminAuditRoutes,
  ...adminTraceRoutes,
  ...adminQueueRoutes,
  ...adminClassifierRoutes,
  ...adminSettingsRoutes,
  ...adminDomainRoutes,
  ...heldRoutes,
  ...senderRoutes,
  ...adminSenderRoutes,
  ...archiveRoutes,
  ...adminRetentionRoutes,
  ...reportRoutes,
  ...adminReportRoutes,
  ...digestRoutes,
  ...adminGraphRoutes,
];
