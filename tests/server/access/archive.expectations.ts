import type { Kysely } from "kysely";
import type { Database } from "../../../server/db/schema";
import { buildArchivedMessage } from "../../factories";
import { mimeMessage } from "../archive/helpers";
import { EVERYONE, type AccessCase, type ResourceCase, type WorldUser } from "./types";

/**
 * Expected answers of the archive routes (issue 6). Everyone reads their own archive; only an
 * investigator (archive.read_any granted on purpose) reads other people's, and never another
 * tenant's. Export needs archive.export (tenant admins); legal holds are tenant admins' alone;
 * retention rules need policies.read / policies.manage.
 */
const OTHERS_READABLE = ["investigator"] as const;
const readable: ResourceCase["allow"] = {
  self: EVERYONE,
  teammate: OTHERS_READABLE,
  other_team: OTHERS_READABLE,
  partner_mate: OTHERS_READABLE,
  other_partner: OTHERS_READABLE,
  other_tenant: [],
};

async function archivedWithAttachment(db: Kysely<Database>, owner: WorldUser): Promise<string> {
  const raw = mimeMessage({
    to: owner.email,
    subject: "matrix message",
    text: "matrix body",
    attachments: [{ filename: "notes.txt", content: Buffer.from("notes"), contentType: "text/plain" }],
  });
  return (await buildArchivedMessage(db, { tenantId: owner.tenantId, raw, links: [{ userId: owner.id }] }))
    .id;
}

const onMessage = (route: string, suffix: string, body?: unknown, success?: number): ResourceCase => ({
  kind: "resource",
  route,
  shared: body === undefined,
  allow: readable,
  ...(success ? { success } : {}),
  setup: async ({ world, owner }) => ({
    path: `/api/archive/${await archivedWithAttachment(world.db, owner)}${suffix}`,
    ...(body !== undefined ? { body } : {}),
  }),
});

const POLICY_READERS = { security_admin: 200, auditor: 200, tenant_admin: 200, default: 403 };
const POLICY_MANAGERS = { security_admin: 200, tenant_admin: 200, default: 403 };

export const accessCases: AccessCase[] = [
  {
    kind: "caller",
    route: "GET /api/archive/search",
    request: () => ({ path: "/api/archive/search?q=matrix" }),
    expect: { default: 200 },
  },
  {
    kind: "caller",
    route: "POST /api/archive/export",
    request: () => ({ path: "/api/archive/export", body: { q: "nomatchanywherezz", format: "mbox" } }),
    expect: { tenant_admin: 200, default: 403 },
  },
  onMessage("GET /api/archive/:id", ""),
  onMessage("GET /api/archive/:id/preview", "/preview"),
  onMessage("GET /api/archive/:id/raw", "/raw"),
  onMessage("GET /api/archive/:id/attachments/:index", "/attachments/0"),
  onMessage("POST /api/archive/:id/forward", "/forward", { to: ["matrix@outside.example"] }, 202),
  onMessage("POST /api/archive/:id/reply", "/reply", { text: "matrix reply" }, 202),

  { kind: "caller", route: "GET /api/admin/retention", expect: POLICY_READERS },
  {
    kind: "caller",
    route: "PUT /api/admin/retention",
    request: () => ({ path: "/api/admin/retention", body: { policies: [] } }),
    expect: POLICY_MANAGERS,
  },
  {
    kind: "caller",
    route: "POST /api/admin/retention/purge",
    request: () => ({ path: "/api/admin/retention/purge", body: { dryRun: true } }),
    expect: POLICY_MANAGERS,
  },
  { kind: "caller", route: "GET /api/admin/legal-holds", expect: { tenant_admin: 200, default: 403 } },
  {
    kind: "caller",
    route: "POST /api/admin/legal-holds",
    request: () => ({
      path: "/api/admin/legal-holds",
      body: { kind: "query", name: "matrix hold", query: "nomatchanywherezz" },
    }),
    expect: { tenant_admin: 201, default: 403 },
  },
  {
    kind: "caller",
    route: "POST /api/admin/legal-holds/:id/lift",
    request: async ({ world }) => {
      const hold = await world.db
        .insertInto("legal_holds")
        .values({ tenant_id: world.tenantId, name: "matrix hold", kind: "query", query: "nomatchanywherezz" })
        .returning("id")
        .executeTakeFirstOrThrow();
      return { path: `/api/admin/legal-holds/${hold.id}/lift`, body: { reason: "matrix" } };
    },
    expect: { tenant_admin: 200, default: 403 },
  },
];
