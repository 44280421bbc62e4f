import { randomBytes } from "node:crypto";
import { buildRawMessage } from "../../factories";
import { heldFor } from "./mail-fixtures";
import { everyoneBut, type AccessCase, type ResourceCase, type SignedInPersona } from "./types";

/**
 * Expected answers of the self-service routes: held messages, sender lists,
 * reports and the security phrase (DESIGN §4, issue 5). Written by the identity
 * area from the policies in server/policies/mail.ts and server/commands/held/policy.ts:
 *
 * - Everyone reads their own held mail; a team lead their team's (T1); a security admin
 *   (held.approve_release) and an investigator (held.read_any, granted on purpose) the tenant's.
 * - Releasing someone else's: team leads for their team, security admins for anyone; an
 *   investigator may look but not act (403). Block, delete, release-and-permit and
 *   request-release are the recipient's alone (others who can see it: 403).
 * - The auditor has no `held.act_own`, `senders.manage_own` or `reports.create`: 403 on those routes.
 * - Personal sender rules and reports are their owner's alone (everyone else: 404); organisation
 *   rules belong to the tenant (security and tenant admins).
 */
const ACTORS_ON_OWN = everyoneBut("auditor");
const SEES_TEAM: readonly SignedInPersona[] = ["team_lead", "security_admin", "investigator"];
const SEES_TENANT: readonly SignedInPersona[] = ["security_admin", "investigator"];
const ORG_ADMINS: readonly SignedInPersona[] = ["security_admin", "tenant_admin"];
const unique = () => randomBytes(4).toString("hex");

const heldRead = (route: string, suffix: string): ResourceCase => ({
  kind: "resource",
  route,
  shared: true,
  setup: async ({ world, owner }) => ({
    path: `/api/held/${(await heldFor(world.db, owner)).heldId}${suffix}`,
  }),
  allow: {
    self: everyoneBut(),
    teammate: SEES_TEAM,
    other_team: SEES_TENANT,
    partner_mate: SEES_TENANT,
    other_partner: SEES_TENANT,
  },
});

/** Only the recipient may; others who can see the item get 403. */
const recipientOnly = (action: string, reason: "spam" | "phish" = "spam"): ResourceCase => ({
  kind: "resource",
  route: `POST /api/held/:id/${action}`,
  setup: async ({ world, owner }) => ({
    path: `/api/held/${(await heldFor(world.db, owner, reason)).heldId}/${action}`,
    body: {},
  }),
  forbidden: ["auditor"],
  allow: { self: ACTORS_ON_OWN },
  deny: {
    teammate: SEES_TEAM,
    other_team: SEES_TENANT,
    partner_mate: SEES_TENANT,
    other_partner: SEES_TENANT,
  },
});

const releaseDecision = (verb: "approve" | "deny"): ResourceCase => ({
  kind: "resource",
  route: `POST /api/admin/held/:id/${verb}`,
  setup: async ({ world, owner }) => {
    const { heldId } = await heldFor(world.db, owner, "phish");
    await world.db
      .updateTable("held_items")
      .set({ status: "release_requested" })
      .where("id", "=", heldId)
      .execute();
    await world.db
      .insertInto("release_requests")
      .values({ tenant_id: owner.tenantId, held_item_id: heldId, requester_id: owner.id, note: "please" })
      .execute();
    return { path: `/api/admin/held/${heldId}/${verb}`, body: {} };
  },
  forbidden: everyoneBut("security_admin"),
  allow: {
    self: ["security_admin"],
    teammate: ["security_admin"],
    other_team: ["security_admin"],
    partner_mate: ["security_admin"],
    other_partner: ["security_admin"],
  },
});

const senderList = (
  base: "/api/senders" | "/api/admin/senders",
  who: readonly SignedInPersona[],
): AccessCase[] => {
  const allowed = Object.fromEntries(who.map((p) => [p, 201]));
  const ok = Object.fromEntries(who.map((p) => [p, 200]));
  return [
    { kind: "caller", route: `GET ${base}`, expect: { ...ok, default: 403 } },
    {
      kind: "caller",
      route: `POST ${base}`,
      request: () => ({ path: base, body: { pattern: `spam-${unique()}.example`, kind: "block" } }),
      expect: { ...allowed, default: 403 },
    },
    { kind: "caller", route: `GET ${base}/export`, expect: { ...ok, default: 403 } },
    {
      kind: "caller",
      route: `POST ${base}/import`,
      request: () => ({
        path: `${base}/import`,
        body: { csv: `pattern,kind,expires_at\nbulk-${unique()}.example,block,\n` },
      }),
      expect: { ...ok, default: 403 },
    },
  ];
};

const reportBy = async (
  world: Parameters<ResourceCase["setup"]>[0]["world"],
  reporterId: string,
  tenantId: string,
): Promise<string> => {
  const report = await world.db
    .insertInto("reports")
    .values({
      tenant_id: tenantId,
      reporter_id: reporterId,
      kind: "phish",
      internet_message_id: `<report-${unique()}@outside.example>`,
      undo_until: new Date(world.services.now().getTime() + 10 * 60_000),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return report.id;
};

export const accessCases: AccessCase[] = [
  // Held messages.
  { kind: "caller", route: "GET /api/held", expect: { default: 200 } },
  { kind: "caller", route: "GET /api/held/count", expect: { default: 200 } },
  heldRead("GET /api/held/:id", ""),
  heldRead("GET /api/held/:id/preview", "/preview"),
  {
    kind: "resource",
    route: "POST /api/held/:id/release",
    setup: async ({ world, owner }) => ({
      path: `/api/held/${(await heldFor(world.db, owner)).heldId}/release`,
      body: {},
    }),
    forbidden: ["auditor"],
    allow: {
      self: ACTORS_ON_OWN,
      teammate: ["team_lead", "security_admin"],
      other_team: ["security_admin"],
      partner_mate: ["security_admin"],
      other_partner: ["security_admin"],
    },
    deny: {
      teammate: ["investigator"],
      other_team: ["investigator"],
      partner_mate: ["investigator"],
      other_partner: ["investigator"],
    },
  },
  recipientOnly("release-and-permit"),
  recipientOnly("block"),
  recipientOnly("delete"),
  recipientOnly("request-release", "phish"),
  {
    kind: "caller",
    route: "POST /api/held/bulk",
    request: async ({ world, caller }) => {
      const owner = caller?.user ?? world.owners.teammate;
      return {
        path: "/api/held/bulk",
        body: { ids: [(await heldFor(world.db, owner)).heldId], action: "delete" },
      };
    },
    expect: { auditor: 403, default: 200 },
  },
  { kind: "caller", route: "GET /api/admin/held/requests", expect: { security_admin: 200, default: 403 } },
  {
    kind: "caller",
    route: "GET /api/admin/held/requests/count",
    expect: { security_admin: 200, default: 403 },
  },
  releaseDecision("approve"),
  releaseDecision("deny"),

  // Sender lists: personal (senders.manage_own) and organisation (senders.manage_org).
  ...senderList("/api/senders", ACTORS_ON_OWN),
  {
    kind: "resource",
    route: "DELETE /api/senders/:id",
    setup: async ({ world, owner }) => {
      const rule = await world.db
        .insertInto("sender_rules")
        .values({
          tenant_id: owner.tenantId,
          scope: "user",
          user_id: owner.id,
          kind: "block",
          pattern: `rule-${unique()}.example`,
          created_by: owner.id,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      return { path: `/api/senders/${rule.id}` };
    },
    forbidden: ["auditor"],
    success: 204,
    allow: { self: ACTORS_ON_OWN },
  },
  ...senderList("/api/admin/senders", ORG_ADMINS),
  {
    kind: "resource",
    route: "DELETE /api/admin/senders/:id",
    // An organisation rule belongs to the owner's tenant, not to the owner.
    setup: async ({ world, owner }) => {
      const rule = await world.db
        .insertInto("sender_rules")
        .values({
          tenant_id: owner.tenantId,
          scope: "tenant",
          user_id: null,
          kind: "block",
          pattern: `org-${unique()}.example`,
          created_by: null,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      return { path: `/api/admin/senders/${rule.id}` };
    },
    forbidden: everyoneBut("security_admin", "tenant_admin"),
    success: 204,
    allow: {
      self: ORG_ADMINS,
      teammate: ORG_ADMINS,
      other_team: ORG_ADMINS,
      partner_mate: ORG_ADMINS,
      other_partner: ORG_ADMINS,
    },
  },

  // Reports: your own (reports.create); triage is the security team's (reports.triage).
  {
    kind: "caller",
    route: "POST /api/reports",
    request: () => ({
      path: "/api/reports",
      body: {
        kind: "spam",
        eml: buildRawMessage({ subject: `matrix report ${unique()}` }).toString("base64"),
      },
    }),
    expect: { auditor: 403, default: 201 },
  },
  { kind: "caller", route: "GET /api/reports", expect: { auditor: 403, default: 200 } },
  ...(["POST /api/reports/:id/undo", "DELETE /api/reports/:id"] as const).map((route): ResourceCase => ({
    kind: "resource",
    route,
    setup: async ({ world, owner }) => {
      const id = await reportBy(world, owner.id, owner.tenantId);
      return route.startsWith("POST")
        ? { path: `/api/reports/${id}/undo`, body: {} }
        : { path: `/api/reports/${id}` };
    },
    forbidden: ["auditor"],
    success: 204,
    allow: { self: ACTORS_ON_OWN },
  })),
  { kind: "caller", route: "GET /api/admin/reports", expect: { security_admin: 200, default: 403 } },
  ...(["confirm", "dismiss"] as const).map((verb): ResourceCase => ({
    kind: "resource",
    route: `POST /api/admin/reports/:id/${verb}`,
    setup: async ({ world, owner }) => ({
      path: `/api/admin/reports/${await reportBy(world, owner.id, owner.tenantId)}/${verb}`,
      body: {},
    }),
    forbidden: everyoneBut("security_admin"),
    allow: {
      self: ["security_admin"],
      teammate: ["security_admin"],
      other_team: ["security_admin"],
      partner_mate: ["security_admin"],
      other_partner: ["security_admin"],
    },
  })),

  // The security phrase shown in digests: everyone's own.
  {
    kind: "caller",
    route: "PUT /api/me/security-phrase",
    request: () => ({ path: "/api/me/security-phrase", body: { phrase: "blue horse battery" } }),
    expect: { default: 204 },
  },
];
