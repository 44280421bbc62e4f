import { validateEndpoint, type NotificationRecord } from "./notifier";
import { normalizePath, type ResolvedGraphOptions } from "./router";
import type { MailStore } from "./store";
import { GraphError, type Principal } from "./types";

const CHANGE_TYPES = new Set(["created", "updated", "deleted"]);

/** Checks the required fields of a subscription create request, the changeType list and clientState length. */
export function checkCreateFields(body: Record<string, unknown>): {
  changeType: string;
  clientState: string | undefined;
} {
  for (const field of ["changeType", "notificationUrl", "resource", "expirationDateTime"]) {
    if (typeof body[field] !== "string" || body[field] === "") {
      throw new GraphError(
        400,
        "InvalidRequest",
        `'${field}' is a required property for subscription creation.`,
      );
    }
  }
  const changeType = String(body.changeType);
  if (!changeType.split(",").every((type) => CHANGE_TYPES.has(type.trim()))) {
    throw new GraphError(400, "InvalidRequest", `Invalid 'changeType' attribute: '${changeType}'.`);
  }
  const clientState = typeof body.clientState === "string" ? body.clientState : undefined;
  if (clientState !== undefined && clientState.length > 128) {
    throw new GraphError(
      400,
      "InvalidRequest",
      "The clientState is longer than the maximum of 128 characters.",
    );
  }
  return { changeType, clientState };
}

/** Checks a notification URL: absolute, HTTPS (http:// allowed unless requireHttpsNotificationUrl). */
export function checkNotificationUrl(
  value: unknown,
  field: string,
  options: Pick<ResolvedGraphOptions, "requireHttpsNotificationUrl">,
): string {
  if (typeof value !== "string") throw new GraphError(400, "InvalidRequest", `'${field}' must be a string.`);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new GraphError(400, "InvalidRequest", `Invalid '${field}': '${value}' is not an absolute URL.`);
  }
  if (parsed.protocol !== "https:" && (options.requireHttpsNotificationUrl || parsed.protocol !== "http:")) {
    throw new GraphError(400, "InvalidRequest", `Invalid '${field}': the URL must use the HTTPS protocol.`);
  }
  return value;
}

/** Parses expirationDateTime: in the future, and at most `maxMinutes` ahead (Graph's ExtensionError otherwise). */
export function checkExpiration(value: unknown, now: number, maxMinutes: number): number {
  const expiresAt = typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(expiresAt)) throw new GraphError(400, "InvalidRequest", "Invalid 'expirationDateTime'.");
  if (expiresAt <= now)
    throw new GraphError(400, "InvalidRequest", "Subscription expiration must be in the future.");
  if (expiresAt > now + maxMinutes * 60_000) {
    throw new GraphError(
      400,
      "ExtensionError",
      `Subscription expiration can only be ${maxMinutes} minutes in the future.`,
    );
  }
  return expiresAt;
}

/** Resolves `users/{id}/messages` or `users/{id}/mailFolders('{id}')/messages` (or `me/...` when delegated). */
export function parseSubscriptionResource(
  store: MailStore,
  resource: string,
  principal: Principal | undefined,
): { userId: string; folderId: string | undefined } {
  let parts = normalizePath(resource).split("/").filter(Boolean);
  if (parts[0]?.toLowerCase() === "me" && principal?.kind === "user")
    parts = ["users", principal.oid, ...parts.slice(1)];
  const unsupported = (): GraphError =>
    new GraphError(400, "InvalidRequest", `Resource '${resource}' is not supported by the fake.`);
  if (parts[0]?.toLowerCase() !== "users" || !parts[1]) throw unsupported();
  const user = store.findUserByIdOrUpn(parts[1]);
  if (!user) {
    const reason = `The requested user '${parts[1]}' is invalid.`;
    throw new GraphError(
      400,
      "ExtensionError",
      `Operation: Create; Exception: [Status Code: NotFound; Reason: ${reason}]`,
    );
  }
  const rest = parts.slice(2).map((part) => part.toLowerCase());
  if (rest.length === 1 && rest[0] === "messages") return { userId: user.id, folderId: undefined };
  if (rest.length === 3 && rest[0] === "mailfolders" && rest[2] === "messages") {
    return { userId: user.id, folderId: store.folder(user, parts[3] ?? "").id };
  }
  throw unsupported();
}

/** Runs the validation handshake; throws Graph's 400 (ValidationError, or InvalidRequest "timed out"). */
export async function handshake(
  url: string,
  options: Pick<ResolvedGraphOptions, "validationTimeoutMs">,
  log: NotificationRecord[],
): Promise<void> {
  const outcome = await validateEndpoint(url, options.validationTimeoutMs, log);
  if (outcome.ok) return;
  if (outcome.reason === "timeout") {
    throw new GraphError(400, "InvalidRequest", "Subscription validation request timed out.");
  }
  throw new GraphError(
    400,
    "ValidationError",
    "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.",
  );
}
