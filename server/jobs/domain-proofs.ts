import type { Services } from "../context";
import { systemActor } from "../auth/actor";
import { ApiError } from "../http/errors";
import { verifyOrganisationDomain } from "../commands/tenants/verify-domain";
import { startPeriodicJob, type RunningJob } from "./periodic";

/** How often the job looks for pending domains' TXT records. */
export const DOMAIN_PROOF_INTERVAL_MS = 10 * 60 * 1000;
/** For how long after it was added a pending domain is looked up by the job (after that, Check DNS only). */
export const DOMAIN_PROOF_WATCH_DAYS = 7;
const FIRST_RUN_MS = 60_000;

/** Answers that only mean "not yet": the record is not published, DNS is down, or another organisation proved it. */
const NOT_YET = new Set(["domain_not_verified", "service_unavailable", "already_exists", "not_found"]);

/**
 * Looks up the TXT record of every domain added in the last week and still pending, and verifies those whose record
 * is there (audited as tenant.domain_verified by `system:domain-check`), so an admin who published the record does
 * not have to come back to press Check DNS. Returns how many it verified.
 */
export function startDomainProofJob(services: Services, intervalMs = DOMAIN_PROOF_INTERVAL_MS): RunningJob {
  return startPeriodicJob(
    async (stopped) => {
      const since = new Date(services.now().getTime() - DOMAIN_PROOF_WATCH_DAYS * 24 * 60 * 60 * 1000);
      const pending = await services.db
        .selectFrom("tenant_domains")
        .select(["tenant_id", "domain"])
        .where("verified_at", "is", null)
        .where("created_at", ">=", since)
        .orderBy("created_at")
        .execute();
      let verified = 0;
      for (const { tenant_id, domain } of pending) {
        if (stopped()) break;
        try {
          await verifyOrganisationDomain(services, systemActor(tenant_id, "domain-check"), null, domain);
          verified += 1;
        } catch (err) {
          if (err instanceof ApiError && NOT_YET.has(err.id)) continue;
          services.logger.warn(
            { err: { message: (err as Error).message }, tenantId: tenant_id, domain },
            "checking a pending domain's TXT record failed",
          );
        }
      }
      return verified;
    },
    {
      intervalMs,
      firstRunMs: FIRST_RUN_MS,
      onError: (err) =>
        services.logger.error({ err: { message: (err as Error).message } }, "pending domain check failed"),
    },
  );
}
