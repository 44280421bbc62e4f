import {
  organisationDomain,
  organisationDomainBody,
  organisationDomainList,
  organisationDomainParams,
} from "../../shared/schemas/domains";
import {
  addOrganisationDomain,
  listTenantDomains,
  removeOrganisationDomain,
} from "../commands/tenants/domains";
import { verifyOrganisationDomain } from "../commands/tenants/verify-domain";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { consumeRateLimit } from "../auth/rate-limit";
import { presentDomain } from "../presenters/domains";

/** The organisation's mail domains, which the gateway takes mail for: tenant admins manage them from the portal. */
export const adminDomainRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/admin/domains",
    summary: "The organisation's mail domains, with the people, other addresses and groups in each",
    tag: "admin",
    // The counts are the whole organisation's: not for partner admins, who see their own people only.
    access: { kind: "permission", permission: "users.manage" },
    response: organisationDomainList,
    handler: async ({ actor, services }) => ({
      json: { items: (await listTenantDomains(services, actor.tenantId)).map(presentDomain) },
    }),
  }),
  defineRoute({
    method: "post",
    path: "/api/admin/domains",
    summary:
      "Add a domain, pending until it is proved: its TXT record, or Microsoft 365's verification with the Graph connector (audited as tenant.domain_added; a domain another organisation has proved is a 409)",
    tag: "admin",
    access: { kind: "permission", permission: "users.manage" },
    body: organisationDomainBody,
    response: organisationDomain,
    handler: async ({ actor, services, ip, body }) => ({
      json: presentDomain(await addOrganisationDomain(services, actor, ip, body.domain, "dns")),
    }),
  }),
  defineRoute({
    method: "post",
    path: "/api/admin/domains/:domain/verify",
    summary:
      "Check a pending domain's proof (Entra's verification, else its TXT record); proved, the gateway takes its mail (audited as tenant.domain_verified), else 422 domain_not_verified, or 503 when DNS cannot be asked",
    tag: "admin",
    access: { kind: "permission", permission: "users.manage" },
    params: organisationDomainParams,
    response: organisationDomain,
    handler: async ({ actor, services, ip, params, req, res }) => {
      await consumeRateLimit(services, "domain_check", req, res);
      return { json: presentDomain(await verifyOrganisationDomain(services, actor, ip, params.domain)) };
    },
  }),
  defineRoute({
    method: "delete",
    path: "/api/admin/domains/:domain",
    summary:
      "Stop taking mail for a domain (204; audited as tenant.domain_removed); refused with domain_in_use while people, aliases or groups are in a verified one (a pending domain can always go)",
    tag: "admin",
    access: { kind: "permission", permission: "users.manage" },
    params: organisationDomainParams,
    handler: async ({ actor, services, ip, params, res }) => {
      await removeOrganisationDomain(services, actor, ip, params.domain);
      res.status(204).end();
    },
  }),
];
