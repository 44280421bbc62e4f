import type { Actor, Services } from "../../context";
import { ROLE_PERMISSIONS } from "../../../shared/permissions";
import { loadActor } from "../../auth/actor";
import { ApiError } from "../../http/errors";
import { actOnHeld } from "../held/act";
import { findHeldItem, heldResourceOf, isExpired, type HeldRow } from "../held/queries";
import { canReadHeld } from "../../policies/mail";
import {
  checkActionLink,
  claimActionLink,
  recordLinkOutcome,
  releaseLinkClaim,
  type ActionLinkRow,
} from "../../mail/digest/links";

/** What the person who followed a digest link should see. */
export type LinkPageState =
  | { page: "invalid" }
  | { page: "expired" }
  | { page: "used"; outcome: string | null }
  | { page: "handled"; item: HeldRow }
  | { page: "confirm"; link: ActionLinkRow; item: HeldRow; phrase: string | null }
  | { page: "done"; link: ActionLinkRow; item: HeldRow }
  | { page: "refused"; link: ActionLinkRow; error: string; message: string }
  | { page: "failed" };

const OPEN = new Set(["held", "release_requested"]);

const AGENT_PERMISSIONS = new Set(ROLE_PERMISSIONS.agent);

/**
 * The link's owner as a link may act: with no more than an agent's permissions. The signature proves only that the
 * digest reached a mailbox, not who clicked, and it skips the owner's second factor; so an admin's or a security
 * admin's link must not carry their review powers (releasing phish and malware, acting on others' mail).
 */
export function asLinkHolder(actor: Actor): Actor {
  return { ...actor, permissions: new Set([...actor.permissions].filter((p) => AGENT_PERMISSIONS.has(p))) };
}

/** Looks at a link without using it (GET): what the confirmation page shows, or why it cannot be used. */
export async function inspectLink(services: Services, token: string): Promise<LinkPageState> {
  const now = services.now();
  const check = await checkActionLink(services.db, token, now, services.secretKey);
  if (check.state === "invalid") return { page: "invalid" };
  if (check.state === "used") return { page: "used", outcome: check.link.outcome };
  if (check.state === "expired") return { page: "expired" };
  const item = await findHeldItem(services.db, check.link.held_item_id);
  if (!item || item.tenant_id !== check.link.tenant_id) return { page: "invalid" };
  // The page shows the message's sender and subject: only while the link's owner may still read it (not disabled,
  // still in the group it came to), as the POST checks before acting.
  const owner = await loadActor(services.db, check.link.user_id, "session");
  if (!owner || canReadHeld(asLinkHolder(owner), heldResourceOf(item, owner)) !== "allowed")
    return { page: "invalid" };
  if (isExpired(item, now)) return { page: "expired" };
  if (!OPEN.has(item.status)) return { page: "handled", item };
  const user = await services.db
    .selectFrom("users")
    .select("security_phrase")
    .where("id", "=", check.link.user_id)
    .executeTakeFirst();
  return { page: "confirm", link: check.link, item, phrase: user?.security_phrase ?? null };
}

/**
 * Uses a link (POST from the confirmation page): claims it (single use, even
 * under concurrent clicks), then runs the same held action as the API, as the
 * link's owner with an agent's permissions at most (`asLinkHolder`) — the signature is the credential, scoped to
 * that one action on that one item. A refusal (expired item, already released, phish) uses the link up too.
 */
export async function followLink(
  services: Services,
  token: string,
  ip: string | null,
): Promise<LinkPageState> {
  const now = services.now();
  const check = await checkActionLink(services.db, token, now, services.secretKey);
  if (check.state === "invalid") return { page: "invalid" };
  if (check.state === "used") return { page: "used", outcome: check.link.outcome };
  if (check.state === "expired") return { page: "expired" };
  const link = check.link;
  if (!(await claimActionLink(services.db, link.id, now))) {
    const again = await checkActionLink(services.db, token, now, services.secretKey);
    return again.state === "used" ? { page: "used", outcome: again.link.outcome } : { page: "expired" };
  }
  const actor = await loadActor(services.db, link.user_id, "session");
  if (!actor || actor.tenantId !== link.tenant_id) {
    await recordLinkOutcome(services.db, link.id, "refused:account_disabled");
    return { page: "invalid" };
  }
  try {
    const item = await actOnHeld(services, asLinkHolder(actor), ip, {
      id: link.held_item_id,
      action: link.action,
      via: "digest_link",
    });
    await recordLinkOutcome(services.db, link.id, `done:${link.action}`);
    return { page: "done", link, item };
  } catch (err) {
    if (err instanceof ApiError) {
      await recordLinkOutcome(services.db, link.id, `refused:${err.id}`);
      return { page: "refused", link, error: err.id, message: err.message };
    }
    services.logger.error({ err, linkId: link.id }, "digest link action failed");
    await releaseLinkClaim(services.db, link.id);
    return { page: "failed" };
  }
}
