import { DOMAIN_READ, requirePermission } from "./auth";
import type { Route } from "./router";
import { GraphError, jsonResponse } from "./types";

/**
 * GET /domains/{id}: one of the directory's domains (Domain.Read.All), with the properties Graph's domain resource
 * has; a name the directory does not have is Graph's 404.
 */
export const domainRoutes: Route[] = [
  {
    method: "GET",
    pattern: "domains/:domain",
    handler: (ctx, req, params) => {
      requirePermission(req.principal, DOMAIN_READ);
      const name = decodeURIComponent(params.domain ?? "").toLowerCase();
      const domain = ctx.store.domains.get(name);
      if (!domain)
        throw new GraphError(
          404,
          "Request_ResourceNotFound",
          `Resource '${name}' does not exist or one of its queried reference-property objects are not present.`,
        );
      return jsonResponse(200, {
        "@odata.context": `${ctx.linkBase()}/$metadata#domains/$entity`,
        authenticationType: "Managed",
        availabilityStatus: null,
        id: domain.id,
        isAdminManaged: true,
        isDefault: false,
        isInitial: domain.id.endsWith(".onmicrosoft.com"),
        isRoot: true,
        isVerified: domain.isVerified,
        supportedServices: domain.isVerified ? ["Email", "OfficeCommunicationsOnline"] : [],
      });
    },
  },
];
