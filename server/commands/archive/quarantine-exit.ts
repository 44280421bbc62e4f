import type { Kysely } from "kysely";
import type { Actor } from "../../context";
import type { Database } from "../../db/schema";
import type { VisibleMessage } from "../../archive/access";
import { canReleaseHeld } from "../../policies/mail";
import { releaseNotAllowed } from "../held/policy";
import { heldItemsOfMessageFor, heldResourceOf } from "../held/queries";

/**
 * Forwarding, replying to or downloading a message (or its attachments) that is still in the actor's own quarantine
 * takes it out by another door than Held: allowed only where they could release it themselves. A phishing or
 * malware hold, or the organisation's block, which only a security admin releases, answers `release_not_allowed` as
 * a release does, so the person asks for a release instead. Read through `archive.read_any` it is an investigation, which this does not limit.
 */
export async function assertMayTakeOut(
  db: Kysely<Database>,
  actor: Actor,
  visible: VisibleMessage,
): Promise<void> {
  if (!visible.inOwnQuarantine) return;
  const holds = await heldItemsOfMessageFor(db, visible.message.id, actor);
  if (holds.length === 0) return;
  const resources = holds.map((row) => heldResourceOf(row, actor));
  if (resources.some((item) => canReleaseHeld(actor, item) === "allowed")) return;
  throw releaseNotAllowed({ orgBlock: resources.some((item) => item.orgBlock) });
}
