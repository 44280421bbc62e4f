import { randomBytes } from "node:crypto";
import { totpFor } from "../../../server/auth/totp";
import { openTotpSecret } from "../../../server/auth/totp-at-rest";
import { everyoneBut, type AccessCase } from "./types";
import { grantPermission } from "../../factories";

/** The TOTP secret a caller's row holds, decrypted as the server does (a placeholder when there is none). */
function storedSecret(serverKey: Buffer, userId: string, stored: string | null): string {
  return (stored === null ? null : openTotpSecret(serverKey, userId, stored)) ?? "AAAAAAAAAAAAAAAA";
}

/** Expected answers of the identity routes (auth, me, admin users, audit): issue 4. */
const NOBODY_EXCEPT_ADMINS = everyoneBut("tenant_admin", "partner_admin");
const unique = () => randomBytes(4).toString("hex");

export const accessCases: AccessCase[] = [
  // Sign-in routes are public: their answer never depends on a session.
  {
    kind: "caller",
    route: "POST /api/auth/login",
    request: () => ({
      path: "/api/auth/login",
      body: { email: `nobody-${unique()}@example.com`, password: "not the password" },
    }),
    expect: { anonymous: 401, default: 401 },
  },
  {
    kind: "caller",
    route: "POST /api/auth/logout",
    request: () => ({ path: "/api/auth/logout", body: {}, freshSession: true }),
    expect: { default: 200 },
  },
  { kind: "caller", route: "GET /api/me", expect: { default: 200 } },
  {
    kind: "caller",
    route: "POST /api/auth/password-reset",
    request: () => ({ path: "/api/auth/password-reset", body: { email: `nobody-${unique()}@example.com` } }),
    expect: { anonymous: 202, default: 202 },
  },
  {
    kind: "caller",
    route: "POST /api/auth/password-reset/confirm",
    request: () => ({
      path: "/api/auth/password-reset/confirm",
      body: { token: "x".repeat(43), password: "a long enough passphrase" },
    }),
    expect: { anonymous: 400, default: 400 },
  },
  // The matrix server has no Entra settings.
  { kind: "caller", route: "GET /api/auth/entra/start", expect: { anonymous: 503, default: 503 } },
  { kind: "caller", route: "GET /api/auth/entra/callback", expect: { anonymous: 503, default: 503 } },
  // TOTP: every local account may enrol; confirming rotates the session, so it uses a throwaway one.
  {
    kind: "caller",
    route: "POST /api/me/totp/enroll",
    request: () => ({ path: "/api/me/totp/enroll", body: {} }),
    expect: { default: 200 },
  },
  {
    kind: "caller",
    route: "POST /api/me/totp/confirm",
    request: async ({ world, caller }) => {
      if (!caller) return { path: "/api/me/totp/confirm", body: { code: "123456" } };
      const user = await world.db
        .selectFrom("users")
        .select("totp_secret")
        .where("id", "=", caller.user.id)
        .executeTakeFirstOrThrow();
      const code = totpFor(storedSecret(world.services.secretKey, caller.user.id, user.totp_secret)).generate(
        {
          timestamp: world.services.now().getTime(),
        },
      );
      return { path: "/api/me/totp/confirm", body: { code }, freshSession: true, endsOtherSessions: true };
    },
    expect: { default: 200 },
  },
  {
    kind: "caller",
    route: "POST /api/me/totp/recovery-codes",
    request: async ({ world, caller }) => {
      if (!caller) return { path: "/api/me/totp/recovery-codes", body: { code: "123456" } };
      const user = await world.db
        .selectFrom("users")
        .select("totp_secret")
        .where("id", "=", caller.user.id)
        .executeTakeFirstOrThrow();
      const code = totpFor(storedSecret(world.services.secretKey, caller.user.id, user.totp_secret)).generate(
        {
          timestamp: world.services.now().getTime() + 30_000,
        },
      );
      return { path: "/api/me/totp/recovery-codes", body: { code } };
    },
    expect: { default: 200 },
  },

  // Admin: users. Tenant admins reach the tenant; partner admins their partner's people (P1).
  {
    kind: "caller",
    route: "GET /api/admin/users",
    expect: { tenant_admin: 200, partner_admin: 200, default: 403 },
  },
  {
    kind: "caller",
    route: "POST /api/admin/users",
    request: () => ({ path: "/api/admin/users", body: { email: `invitee-${unique()}@example.com` } }),
    expect: { tenant_admin: 201, partner_admin: 201, default: 403 },
  },
  {
    kind: "resource",
    route: "GET /api/admin/users/:id",
    shared: true,
    setup: async ({ owner }) => ({ path: `/api/admin/users/${owner.id}` }),
    forbidden: NOBODY_EXCEPT_ADMINS,
    allow: {
      self: ["tenant_admin", "partner_admin"],
      teammate: ["tenant_admin"],
      other_team: ["tenant_admin"],
      partner_mate: ["tenant_admin", "partner_admin"],
      other_partner: ["tenant_admin"],
    },
  },
  // Disable, enable and revoking SMTP passwords: anyone the admin manages, never the admin themself.
  ...(
    [
      ["POST", "disable"],
      ["POST", "enable"],
      ["DELETE", "smtp-passwords"],
    ] as const
  ).map(([method, action]): AccessCase => ({
    kind: "resource",
    route: `${method} /api/admin/users/:id/${action}`,
    setup: async ({ owner }) => ({
      path: `/api/admin/users/${owner.id}/${action}`,
      ...(method === "POST" ? { body: {} } : {}),
    }),
    forbidden: NOBODY_EXCEPT_ADMINS,
    allow: {
      teammate: ["tenant_admin"],
      other_team: ["tenant_admin"],
      partner_mate: ["tenant_admin", "partner_admin"],
      other_partner: ["tenant_admin"],
    },
    deny: { self: ["tenant_admin", "partner_admin"] },
  })),
  // Resetting a lost authenticator: as disabling, for someone who has one (without, it is a 409).
  {
    kind: "resource",
    route: "DELETE /api/admin/users/:id/totp",
    setup: async ({ world, owner }) => {
      await world.db
        .updateTable("users")
        .set({ totp_enabled: true, totp_secret: "v1:sealed-elsewhere" })
        .where("id", "=", owner.id)
        .execute();
      return { path: `/api/admin/users/${owner.id}/totp` };
    },
    forbidden: NOBODY_EXCEPT_ADMINS,
    allow: {
      teammate: ["tenant_admin"],
      other_team: ["tenant_admin"],
      partner_mate: ["tenant_admin", "partner_admin"],
      other_partner: ["tenant_admin"],
    },
    deny: { self: ["tenant_admin", "partner_admin"] },
  },
  // Other addresses (aliases) route the tenant's mail to a person: tenant admins only, never their own.
  ...(["POST", "DELETE"] as const).map((method): AccessCase => ({
    kind: "resource",
    route:
      method === "POST"
        ? "POST /api/admin/users/:id/addresses"
        : "DELETE /api/admin/users/:id/addresses/:address",
    setup: async ({ world, owner }) => {
      const address = `alias-${unique()}@${owner.email.split("@")[1] ?? "example.com"}`;
      if (method === "POST") return { path: `/api/admin/users/${owner.id}/addresses`, body: { address } };
      await world.db
        .insertInto("user_addresses")
        .values({ address, tenant_id: owner.tenantId, user_id: owner.id })
        .execute();
      return { path: `/api/admin/users/${owner.id}/addresses/${encodeURIComponent(address)}` };
    },
    forbidden: everyoneBut("tenant_admin"),
    allow: {
      teammate: ["tenant_admin"],
      other_team: ["tenant_admin"],
      partner_mate: ["tenant_admin"],
      other_partner: ["tenant_admin"],
    },
    deny: { self: ["tenant_admin"] },
  })),
  {
    kind: "resource",
    route: "POST /api/admin/users/:id/roles",
    setup: async ({ owner }) => ({ path: `/api/admin/users/${owner.id}/roles`, body: { role: "agent" } }),
    forbidden: NOBODY_EXCEPT_ADMINS,
    allow: {
      teammate: ["tenant_admin"],
      other_team: ["tenant_admin"],
      partner_mate: ["tenant_admin", "partner_admin"],
      other_partner: ["tenant_admin"],
    },
    // Nobody gives themselves a role (a taken-over admin must not make itself security_admin).
    deny: { self: ["tenant_admin", "partner_admin"] },
  },
  {
    kind: "resource",
    route: "DELETE /api/admin/users/:id/roles/:role",
    // Owners are agents; `self` (an admin without the agent role) is left out: there is nothing to remove.
    owners: ["teammate", "other_team", "partner_mate", "other_partner", "other_tenant"],
    setup: async ({ owner }) => ({ path: `/api/admin/users/${owner.id}/roles/agent` }),
    forbidden: NOBODY_EXCEPT_ADMINS,
    allow: {
      teammate: ["tenant_admin"],
      other_team: ["tenant_admin"],
      partner_mate: ["tenant_admin", "partner_admin"],
      other_partner: ["tenant_admin"],
    },
  },
  {
    kind: "resource",
    route: "POST /api/admin/users/:id/grants",
    setup: async ({ owner }) => ({
      path: `/api/admin/users/${owner.id}/grants`,
      body: { permission: "held.read_any", reason: "access matrix check" },
    }),
    forbidden: everyoneBut("tenant_admin"),
    allow: {
      teammate: ["tenant_admin"],
      other_team: ["tenant_admin"],
      partner_mate: ["tenant_admin"],
      other_partner: ["tenant_admin"],
    },
    deny: { self: ["tenant_admin"] },
  },
  {
    kind: "resource",
    route: "DELETE /api/admin/users/:id/grants/:permission",
    setup: async ({ world, owner, caller }) => {
      if (owner.id !== caller.user.id) {
        await grantPermission(world.db, {
          tenantId: owner.tenantId,
          userId: owner.id,
          permission: "held.read_any",
          reason: "access matrix",
        });
      }
      return { path: `/api/admin/users/${owner.id}/grants/held.read_any` };
    },
    forbidden: everyoneBut("tenant_admin"),
    allow: {
      teammate: ["tenant_admin"],
      other_team: ["tenant_admin"],
      partner_mate: ["tenant_admin"],
      other_partner: ["tenant_admin"],
    },
    deny: { self: ["tenant_admin"] },
  },

  // Audit: auditors and tenant admins read; only auditors export.
  {
    kind: "caller",
    route: "GET /api/admin/audit",
    expect: { auditor: 200, tenant_admin: 200, default: 403 },
  },
  {
    kind: "caller",
    route: "GET /api/admin/audit",
    label: "csv export",
    request: () => ({ path: "/api/admin/audit?format=csv&action=auth.*" }),
    expect: { auditor: 200, default: 403 },
  },
  {
    kind: "caller",
    route: "GET /api/admin/audit/verify",
    expect: { auditor: 200, tenant_admin: 200, default: 403 },
  },
  // Message trace: security and tenant admins (subjects only with archive.read_any: tests/server/admin/trace.test.ts).
  {
    kind: "caller",
    route: "GET /api/admin/trace",
    expect: { security_admin: 200, tenant_admin: 200, default: 403 },
  },
  // The content classifier's status: read with policies.read (tests/server/admin/classifier-status.test.ts).
  {
    kind: "caller",
    route: "GET /api/admin/classifier",
    expect: { security_admin: 200, auditor: 200, tenant_admin: 200, anonymous: 401, default: 403 },
  },
  // The organisation's settings: read with policies.read, changed with policies.manage (tests/server/admin/settings.test.ts).
  {
    kind: "caller",
    route: "GET /api/admin/settings",
    expect: { security_admin: 200, auditor: 200, tenant_admin: 200, anonymous: 401, default: 403 },
  },
  {
    kind: "caller",
    route: "GET /api/admin/settings/impact",
    request: () => ({ path: "/api/admin/settings/impact?holdThreshold=4&suspectScore=2" }),
    expect: { security_admin: 200, auditor: 200, tenant_admin: 200, anonymous: 401, default: 403 },
  },
  {
    kind: "caller",
    route: "PUT /api/admin/settings",
    // What is already in effect: answered without changing anything.
    request: () => ({ path: "/api/admin/settings", body: { quarantineRetentionDays: 14 } }),
    expect: { security_admin: 200, tenant_admin: 200, anonymous: 401, default: 403 },
  },
  // The organisation's mail domains: tenant admins' (users.manage) only (tests/server/admin/domains.test.ts).
  {
    kind: "caller",
    route: "GET /api/admin/domains",
    expect: { tenant_admin: 200, anonymous: 401, default: 403 },
  },
  {
    kind: "caller",
    route: "POST /api/admin/domains",
    // A domain the organisation has already: answered without changing anything.
    request: () => ({ path: "/api/admin/domains", body: { domain: "example.com" } }),
    expect: { tenant_admin: 200, anonymous: 401, default: 403 },
  },
  {
    kind: "caller",
    route: "POST /api/admin/domains/:domain/verify",
    // A verified domain: answered without a DNS lookup or a change.
    request: () => ({ path: "/api/admin/domains/example.com/verify" }),
    expect: { tenant_admin: 200, anonymous: 401, default: 403 },
  },
  {
    kind: "caller",
    route: "DELETE /api/admin/domains/:domain",
    request: () => ({ path: "/api/admin/domains/not-ours.example" }),
    expect: { tenant_admin: 404, anonymous: 401, default: 403 },
  },
  // The outbound queue: read with mail.trace, "retry now" with mail.queue (tests/server/admin/queue.test.ts).
  {
    kind: "caller",
    route: "GET /api/admin/queue",
    expect: { security_admin: 200, tenant_admin: 200, default: 403 },
  },
  {
    kind: "caller",
    route: "POST /api/admin/queue/retry",
    expect: { security_admin: 200, tenant_admin: 200, default: 403 },
  },
];
