import type { Services } from "../context";
import { describeError, GraphRequestError } from "./errors";
import { graphOf } from "./runtime";
import { directoryOfTenant } from "./tenant-directory";

/** What Graph says of one of the directory's domains (GET /domains/{id}). */
interface GraphDomain {
  id?: string;
  isVerified?: boolean;
}

/**
 * Whether Microsoft has verified `domain` for the organisation's own Entra directory (GET /domains/{id}, with
 * Domain.Read.All): the same DNS proof, already given to Microsoft 365, so an IT team that runs on it need not
 * publish another record. False whenever it cannot be told: no Graph connector, no directory of the organisation's
 * own, a domain the directory lacks or has not verified, a missing permission (logged with what to grant) or Graph
 * failing; the DNS record stays the way in.
 */
export async function verifiedByEntra(
  services: Services,
  tenantId: string,
  domain: string,
): Promise<boolean> {
  const graph = graphOf(services);
  if (!graph) return false;
  const directory = await directoryOfTenant(services.db, tenantId, graph.connection.settings.directoryId);
  if (!directory) return false;
  try {
    const found = await graph.connection
      .api(directory.toLowerCase())
      .get<GraphDomain>(`/domains/${encodeURIComponent(domain)}`);
    return found.isVerified === true && (found.id ?? "").toLowerCase() === domain;
  } catch (error) {
    if (error instanceof GraphRequestError && error.status === 404) return false;
    services.logger.info(
      { tenant: tenantId, domain, error: describeError(error) },
      error instanceof GraphRequestError && error.status === 403
        ? "Entra's domains cannot be read (grant the Graph application permission Domain.Read.All); the domain needs its DNS record"
        : "Entra's domains could not be read; the domain needs its DNS record",
    );
    return false;
  }
}
