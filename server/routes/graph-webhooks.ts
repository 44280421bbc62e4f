import { Router, type Request, type Response } from "express";
import type { Services } from "../context";
import { acceptNotifications, type NotificationKind } from "../graph/webhooks";
import { LIFECYCLE_PATH, NOTIFICATION_PATH } from "../graph/settings";
import type { GraphMetrics } from "../graph/metrics";
import { BODY_LIMITS, jsonBody } from "../http/body-limit";
import { errorBody } from "../http/errors";

const MAX_TOKEN_LENGTH = 2048;
/** How long Graph is asked to wait before sending notifications again that could not be stored. */
const RETRY_AFTER_SECONDS = 60;

/**
 * Graph's webhooks (DESIGN §4), outside the /api route table: they are public and
 * authenticate each entry by its clientState instead of a session. A
 * `validationToken` is echoed as text/plain (the subscription handshake);
 * a notification collection is checked and stored, then answered 202, and the
 * processing job is woken. A storage failure answers 500 so that Graph retries.
 */
export function graphWebhookRouter(
  services: Services,
  metrics: GraphMetrics,
  onAccepted: (kind: NotificationKind) => void,
): Router {
  const router = Router();
  const parse = jsonBody(BODY_LIMITS.graphNotification, { everyContentType: true });
  const handle = (kind: NotificationKind) => async (req: Request, res: Response) => {
    const token = req.query.validationToken;
    if (typeof token === "string") {
      if (token.length > MAX_TOKEN_LENGTH)
        return res.status(400).type("text/plain").send("validationToken too long");
      return res.status(200).type("text/plain").send(token);
    }
    try {
      const outcome = await acceptNotifications(services, metrics, kind, req.body);
      if (!outcome)
        return res
          .status(400)
          .json({ error: "invalid_request", message: "Expected a notification collection." });
      if (outcome.accepted > 0) onAccepted(kind);
      return res.status(202).end();
    } catch (error) {
      services.logger.error(
        { kind, error: error instanceof Error ? error.message : "unknown" },
        "graph notifications not stored",
      );
      // Graph delivers a notification again when its endpoint fails: nothing is lost while the database is away.
      return res
        .status(503)
        .set("Retry-After", String(RETRY_AFTER_SECONDS))
        .json(
          errorBody(
            "service_unavailable",
            "Mailward could not store these notifications just now. Send them again in a minute.",
          ),
        );
    }
  };
  router.post(NOTIFICATION_PATH, parse, handle("change"));
  router.post(LIFECYCLE_PATH, parse, handle("lifecycle"));
  return router;
}
