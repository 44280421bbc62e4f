import {
  organisationSettings,
  organisationSettingsChange,
  settingsImpact,
  settingsImpactQuery,
} from "../../shared/schemas/settings";
import { settingsImpact as countSettingsImpact } from "../commands/admin/settings-impact";
import { defineRoute, type RouteSpec } from "../http/route-table";
import {
  changeOrganisationSettings,
  readOrganisationSettings,
} from "../commands/admin/organisation-settings";

/** The organisation's verdict and self-service settings: how strict the gateway is, how long held mail waits, digests. */
export const adminSettingsRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/admin/settings",
    summary:
      "The organisation's settings in effect: hold threshold, suspect score, organisation block action, held-mail retention, auto-permit days, digest time zone and times",
    tag: "admin",
    access: { kind: "permission", permission: "policies.read" },
    response: organisationSettings,
    handler: async ({ actor, services }) => ({
      json: await readOrganisationSettings(services, actor.tenantId),
    }),
  }),
  defineRoute({
    method: "put",
    path: "/api/admin/settings",
    summary:
      "Change some of the organisation's settings (the others stay); audited as tenant.settings_changed",
    tag: "admin",
    access: { kind: "permission", permission: "policies.manage" },
    body: organisationSettingsChange,
    response: organisationSettings,
    handler: async ({ body, actor, services, ip }) => ({
      json: await changeOrganisationSettings(services, actor, ip, body),
    }),
  }),
  defineRoute({
    method: "get",
    path: "/api/admin/settings/impact",
    summary:
      "What a hold threshold and suspect score would have done to the last days' inbound mail, by score, next to the settings in effect",
    tag: "admin",
    access: { kind: "permission", permission: "policies.read" },
    query: settingsImpactQuery,
    response: settingsImpact,
    handler: async ({ actor, services, query }) => ({
      json: await countSettingsImpact(services, actor.tenantId, query),
    }),
  }),
];
