import type { Kysely } from "kysely";
import type { Actor } from "../../context";
import type { Database } from "../../db/schema";
import type { VisibleMessage } from "../../archive/access";
import { ApiError } from "../../http/errors";
import { canReleaseHeld } from "../../policies/mail";
import { heldItemsOfMessageFor, heldResourceOf } from "../held/queries";

/**
 * Forwarding, replying to or downloading a message (or its attachments) that is still in the actor's own quarantine
 * takes it out by another door than Held: allowed only where they could release it themselves. A phishing or
 * malware hold, which only a security admin releases, answers `release_not_allowed` as a release does, so the person
 * asks for a release instead. Read through `archive.read_any` it is an investigation, which this does not limit.
 */
export async function assertMayTakeOut(
  db: Kysely<Database>,
  actor: Actor,
  visible: VisibleMessage,
): Promise<void> {
  if (!visible.inOwnQuarantine) return;
  const holds = await heldItemsOfMessageFor(db, visible.message.id, actor);
  if (holds.length === 0) return;
  if (holds.some((row) => canReleaseHeld(actor, heldResourceOf(row, actor)) === "allowed")) return;
  throw new ApiError("release_not_allowed");
}
