import { randomBytes } from "node:crypto";
import { buildArchivedMessage, buildRawMessage } from "../../factories";
import { EVERYONE, type AccessCase } from "./types";

/**
 * The add-in's per-person reads. Settings are always your own. The verdict
 * lookup searches only the caller's own mailbox: even an investigator with
 * archive.read_any gets 404 for someone else's message (that is what the archive routes are for).
 */
export const accessCases: AccessCase[] = [
  { kind: "caller", route: "GET /api/me/settings", expect: { default: 200 } },
  {
    kind: "resource",
    route: "GET /api/archive/lookup",
    shared: true,
    allow: {
      self: EVERYONE,
      teammate: [],
      other_team: [],
      partner_mate: [],
      other_partner: [],
      other_tenant: [],
    },
    setup: async ({ world, owner }) => {
      const messageId = `<lookup-${randomBytes(4).toString("hex")}@outside.example>`;
      await buildArchivedMessage(world.db, {
        tenantId: owner.tenantId,
        raw: buildRawMessage({ to: owner.email, messageId }),
        links: [{ userId: owner.id }],
      });
      return { path: `/api/archive/lookup?messageId=${encodeURIComponent(messageId)}` };
    },
  },
];
