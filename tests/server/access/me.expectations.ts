import { randomBytes } from "node:crypto";
import { buildArchivedMessage, buildRawMessage } from "../../factories";
import { hashSmtpPassword, newSmtpPassword } from "../../../server/auth/smtp-passwords";
import { EVERYONE, type AccessCase } from "./types";

/**
 * The add-in's per-person reads. Settings are always your own. The verdict
 * lookup searches only the caller's own mailbox: even an investigator with
 * archive.read_any gets 404 for someone else's message (that is what the archive routes are for).
 * SMTP passwords are only ever one's own: nobody, admins included, can list or revoke another person's.
 */
export const accessCases: AccessCase[] = [
  { kind: "caller", route: "GET /api/me/settings", expect: { default: 200 } },
  { kind: "caller", route: "GET /api/me/smtp-passwords", expect: { default: 200 } },
  {
    kind: "caller",
    route: "POST /api/me/smtp-passwords",
    // Every persona's address is in the tenant's domain, so each may submit mail.
    request: () => ({ path: "/api/me/smtp-passwords", body: { label: "Access matrix device" } }),
    expect: { default: 201 },
  },
  {
    kind: "resource",
    route: "DELETE /api/me/smtp-passwords/:id",
    setup: async ({ world, owner }) => {
      const row = await world.db
        .insertInto("smtp_passwords")
        .values({
          tenant_id: owner.tenantId,
          user_id: owner.id,
          label: "Owner's device",
          secret_hash: hashSmtpPassword(newSmtpPassword()),
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      return { path: `/api/me/smtp-passwords/${row.id}` };
    },
    success: 204,
    allow: { self: EVERYONE },
  },
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
