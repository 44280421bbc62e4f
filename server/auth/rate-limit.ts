import type { Request, Response } from "express";
import { ipKeyGenerator, rateLimit, type RateLimitRequestHandler } from "express-rate-limit";
import type { Services } from "../context";
import { ApiError } from "../http/errors";

/**
 * The buckets limited per client address: password sign-in, password-reset requests, and domain checks (each one a
 * DNS lookup and perhaps a Graph call that Mailward makes on the caller's behalf).
 */
export type LimitedAction = "login" | "password_reset" | "domain_check";

const limiters = new WeakMap<Services, Map<LimitedAction, RateLimitRequestHandler>>();

/** One express-rate-limit instance per running server and action (memory store: per instance, by design). */
function limiterFor(services: Services, action: LimitedAction): RateLimitRequestHandler {
  let byAction = limiters.get(services);
  if (!byAction) {
    byAction = new Map();
    limiters.set(services, byAction);
  }
  let limiter = byAction.get(action);
  if (!limiter) {
    const { MAILWARD_LOGIN_RATE_LIMIT: limit, MAILWARD_LOGIN_RATE_WINDOW_MINUTES: minutes } = services.config;
    limiter = rateLimit({
      windowMs: minutes * 60_000,
      limit: action === "password_reset" ? Math.max(1, Math.ceil(limit / 10)) : limit,
      standardHeaders: "draft-8",
      legacyHeaders: false,
      keyGenerator: (req) => `${action}:${ipKeyGenerator(req.ip ?? req.socket.remoteAddress ?? "unknown")}`,
      handler: (_req, _res, next) => next(new ApiError("rate_limited")),
      // It is created lazily inside a request on purpose (one per server); the rest of the checks stay on.
      validate: { creationStack: false },
    });
    byAction.set(action, limiter);
  }
  return limiter;
}

/**
 * Counts this request against the client's budget for `action` and throws
 * 429 rate_limited when it is spent. Lockout (per account) is separate: this
 * stops one address spraying many accounts.
 */
export function consumeRateLimit(
  services: Services,
  action: LimitedAction,
  req: Request,
  res: Response,
): Promise<void> {
  const limiter = limiterFor(services, action);
  return new Promise((resolve, reject) => {
    Promise.resolve(
      limiter(req, res, (error?: unknown) =>
        error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(),
      ),
    ).catch(reject);
  });
}
