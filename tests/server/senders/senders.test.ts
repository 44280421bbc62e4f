import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiClient } from "../../support/http";
import { auditEvents, startSelfServiceFixture, type SelfServiceFixture } from "../held/support";

let f: SelfServiceFixture;
let agent: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let other: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let admin: Awaited<ReturnType<SelfServiceFixture["user"]>>;

beforeAll(async () => {
  f = await startSelfServiceFixture();
  agent = await f.user();
  other = await f.user();
  admin = await f.user({ roles: ["security_admin"] });
});
afterAll(async () => {
  await f?.server.stop();
});

interface Rule {
  id: string;
  pattern: string;
  kind: string;
  scope: string;
  expiresAt: string | null;
  source: string;
}

describe("POST /api/senders", () => {
  it("adds address, domain and *.domain rules (201), and returns an identical one unchanged (200)", async () => {
    for (const pattern of ["friend@partner.example", "partner.example", "*.partner.example"]) {
      const res = await agent.client.request("POST", "/api/senders", { pattern, kind: "permit" });
      expect(res.status, pattern).toBe(201);
      expect(res.json).toMatchObject({
        pattern,
        kind: "permit",
        scope: "user",
        expiresAt: null,
        source: "manual",
      });
    }
    const again = await agent.client.request("POST", "/api/senders", {
      pattern: "Friend@PARTNER.example",
      kind: "permit",
    });
    expect(again.status).toBe(200);
    expect(again.json.pattern).toBe("friend@partner.example");
    expect(
      (await auditEvents(f.db, f.tenantId, "senders.add")).filter((e) => e.actor_id === agent.id),
    ).toHaveLength(3);
  });

  it("adds one rule when the same new rule is posted twice at once (201 and 200, never 500)", async () => {
    for (let round = 0; round < 5; round++) {
      const pattern = `twice${round}@race.example`;
      const answers = await Promise.all(
        [0, 1].map(() => agent.client.request("POST", "/api/senders", { pattern, kind: "block" })),
      );
      expect(answers.map((a) => a.status).sort(), answers.map((a) => a.text).join(" ")).toEqual([200, 201]);
      expect(new Set(answers.map((a) => a.json.id)).size).toBe(1);
    }
  });

  it("refuses permitting a whole public suffix (400 public_suffix) but allows blocking one and permitting a domain under it", async () => {
    for (const pattern of ["co.uk", "*.co.uk", "*.com.au", "*.github.io", "*.onmicrosoft.com"]) {
      const res = await agent.client.request("POST", "/api/senders", { pattern, kind: "permit" });
      expect({ pattern, status: res.status, error: res.json.error, details: res.json.details }).toEqual({
        pattern,
        status: 400,
        error: "invalid_request",
        details: { field: "pattern", code: "public_suffix" },
      });
      expect(res.json.message).toContain("Permit the sender's own domain");
    }
    for (const pattern of ["*.contoso.co.uk", "contoso.onmicrosoft.com"]) {
      const res = await agent.client.request("POST", "/api/senders", { pattern, kind: "permit" });
      expect(res.status, pattern).toBe(201);
    }
    const block = await agent.client.request("POST", "/api/senders", { pattern: "*.co.uk", kind: "block" });
    expect(block.status).toBe(201);
  });

  it("normalises IDN domains to punycode and accepts @domain", async () => {
    const idn = await agent.client.request("POST", "/api/senders", {
      pattern: "Info@Bücher.example",
      kind: "block",
    });
    expect(idn.status).toBe(201);
    expect(idn.json.pattern).toBe("info@xn--bcher-kva.example");
    const at = await agent.client.request("POST", "/api/senders", {
      pattern: "@spam-house.example",
      kind: "block",
    });
    expect(at.json.pattern).toBe("spam-house.example");
  });

  it("refuses permitting one's own address or the organisation's domain (422 spoofing_not_allowed) but allows blocking them", async () => {
    for (const pattern of [
      agent.email,
      "example.com",
      "*.example.com",
      "boss@example.com",
      "mail.example.com",
    ]) {
      const res = await agent.client.request("POST", "/api/senders", { pattern, kind: "permit" });
      expect(res.status, pattern).toBe(422);
      expect(res.json.error).toBe("spoofing_not_allowed");
    }
    expect(
      (await agent.client.request("POST", "/api/senders", { pattern: "boss@example.com", kind: "block" }))
        .status,
    ).toBe(201);
  });

  it("validates patterns, kinds, lengths and expiry (400 with a reason code)", async () => {
    const bad = async (body: Record<string, unknown>) => agent.client.request("POST", "/api/senders", body);
    const cases: Array<[Record<string, unknown>, string | null]> = [
      [{ pattern: "not a pattern", kind: "block" }, "invalid_characters"],
      [{ pattern: "a@*.example", kind: "block" }, "misplaced_wildcard"],
      [{ pattern: "foo.*.example", kind: "block" }, "misplaced_wildcard"],
      [{ pattern: "bob*@spam.example", kind: "block" }, "misplaced_wildcard"],
      [{ pattern: "*bob@spam.example", kind: "permit" }, "misplaced_wildcard"],
      [{ pattern: "*@spam.example", kind: "block" }, "misplaced_wildcard"],
      [{ pattern: `${"a".repeat(65)}@x.example`, kind: "block" }, "local_part_too_long"],
      [{ pattern: `${"a".repeat(64)}.example`, kind: "block" }, "label_too_long"],
      [{ pattern: "localhost", kind: "block" }, "invalid_domain"],
      [{ pattern: "x".repeat(400), kind: "block" }, null],
      [{ pattern: "a@b.example", kind: "allow" }, null],
      [{ pattern: "a@b.example", kind: "block", expiresAt: "2001-01-01T00:00:00Z" }, null],
      [{ pattern: "a@b.example", kind: "block", expiresAt: "tomorrow" }, null],
    ];
    for (const [body, code] of cases) {
      const res = await bad(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error).toBe("invalid_request");
      if (code) expect((res.json.details as { code: string }).code).toBe(code);
      // A wildcard's refusal names the forms a pattern may take.
      if (code === "misplaced_wildcard") expect(res.json.message).toMatch(/a@b\.com.*b\.com.*\*\.b\.com/);
    }
    const stored = await f.db
      .selectFrom("sender_rules")
      .select("pattern")
      .where("pattern", "like", "%*%@%")
      .execute();
    expect(stored).toEqual([]);
  });

  it("refuses a rule of the other kind for the same pattern (409) until the first is removed", async () => {
    const block = await agent.client.request("POST", "/api/senders", {
      pattern: "maybe@twoway.example",
      kind: "block",
    });
    const permit = await agent.client.request("POST", "/api/senders", {
      pattern: "maybe@twoway.example",
      kind: "permit",
    });
    expect(permit.status).toBe(409);
    expect((await agent.client.request("DELETE", `/api/senders/${String(block.json.id)}`)).status).toBe(204);
    expect(
      (
        await agent.client.request("POST", "/api/senders", {
          pattern: "maybe@twoway.example",
          kind: "permit",
        })
      ).status,
    ).toBe(201);
  });

  it("refuses an unauthenticated caller (401) and an auditor without senders.manage_own (403)", async () => {
    expect(
      (
        await new ApiClient(f.server.baseUrl).request("POST", "/api/senders", {
          pattern: "a@b.example",
          kind: "block",
        })
      ).status,
    ).toBe(401);
    const auditor = await f.user({ roles: ["auditor"] });
    expect((await auditor.client.request("GET", "/api/senders")).status).toBe(403);
  });
});

describe("GET /api/senders", () => {
  it("lists only the caller's rules in force, filtered by kind and text, keyset-paged", async () => {
    const mine = await agent.client.request("GET", "/api/senders?limit=200");
    const patterns = (mine.json.items as Rule[]).map((r) => r.pattern);
    expect(patterns).toContain("friend@partner.example");
    expect((await other.client.request("GET", "/api/senders")).json.items).toEqual([]);
    const blocks = (await agent.client.request("GET", "/api/senders?kind=block&limit=200")).json
      .items as Rule[];
    expect(blocks.every((r) => r.kind === "block")).toBe(true);
    const found = (await agent.client.request("GET", "/api/senders?q=partner")).json.items as Rule[];
    expect(found.map((r) => r.pattern).sort()).toEqual([
      "*.partner.example",
      "friend@partner.example",
      "partner.example",
    ]);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await agent.client.request(
        "GET",
        `/api/senders?limit=2${cursor ? `&cursor=${cursor}` : ""}`,
      );
      seen.push(...(res.json.items as Rule[]).map((r) => r.id));
      cursor = res.json.nextCursor as string | null;
    } while (cursor);
    expect(new Set(seen).size).toBe(patterns.length);
  });

  it("finds a rule for an internationalised domain as typed, in Unicode or punycode, in either case", async () => {
    const reader = await f.user();
    for (const pattern of ["bücher.example", "jörg@other.example", "plain.example"]) {
      expect((await reader.client.request("POST", "/api/senders", { pattern, kind: "block" })).status).toBe(
        201,
      );
    }
    const search = async (q: string) =>
      (
        (await reader.client.request("GET", `/api/senders?q=${encodeURIComponent(q)}`)).json.items as Rule[]
      ).map((r) => r.pattern);
    for (const q of ["bücher", "Bücher.example", "xn--bcher-kva"]) {
      expect(await search(q), q).toEqual(["xn--bcher-kva.example"]);
    }
    expect(await search("JÖRG@")).toEqual(["jörg@other.example"]);
    expect(await search("Plain")).toEqual(["plain.example"]);
  });

  it("answers 400 invalid_request, never 500, for a forged cursor", async () => {
    const id = "00000000-0000-0000-0000-000000000000";
    for (const parts of [
      ["rules", 5, id],
      ["rules", "2024-13-45 99:99:99+00", id],
      ["rules", "2024-01-01 00:00:00+00", "-".repeat(36)],
    ]) {
      const cursor = Buffer.from(JSON.stringify(parts)).toString("base64url");
      const res = await agent.client.request("GET", `/api/senders?cursor=${cursor}`);
      expect({ parts, status: res.status, error: res.json.error }).toEqual({
        parts,
        status: 400,
        error: "invalid_request",
      });
    }
  });

  it("leaves out expired rules", async () => {
    const rule = await agent.client.request("POST", "/api/senders", {
      pattern: "brief@temp.example",
      kind: "block",
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    await f.db
      .updateTable("sender_rules")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", String(rule.json.id))
      .execute();
    const list = (await agent.client.request("GET", "/api/senders?q=temp")).json.items as Rule[];
    expect(list).toEqual([]);
  });
});

describe("DELETE /api/senders/:id", () => {
  it("removes the caller's rule (204) but hides another person's and the organisation's (404)", async () => {
    const own = await other.client.request("POST", "/api/senders", {
      pattern: "x@delete-me.example",
      kind: "block",
    });
    expect((await agent.client.request("DELETE", `/api/senders/${String(own.json.id)}`)).status).toBe(404);
    const org = await admin.client.request("POST", "/api/admin/senders", {
      pattern: "org-only.example",
      kind: "block",
    });
    expect((await agent.client.request("DELETE", `/api/senders/${String(org.json.id)}`)).status).toBe(404);
    expect((await admin.client.request("DELETE", `/api/senders/${String(org.json.id)}`)).status).toBe(404);
    expect((await other.client.request("DELETE", `/api/senders/${String(own.json.id)}`)).status).toBe(204);
    expect((await other.client.request("DELETE", `/api/senders/${String(own.json.id)}`)).status).toBe(404);
  });
});

describe("/api/admin/senders", () => {
  it("manages the organisation's list for a security admin, refuses agents (403) and self-permits (422)", async () => {
    const created = await admin.client.request("POST", "/api/admin/senders", {
      pattern: "*.trusted-supplier.example",
      kind: "permit",
    });
    expect(created.status).toBe(201);
    expect(created.json.scope).toBe("tenant");
    expect(
      (await admin.client.request("POST", "/api/admin/senders", { pattern: "*.example.com", kind: "permit" }))
        .json.error,
    ).toBe("spoofing_not_allowed");
    const suffix = await admin.client.request("POST", "/api/admin/senders", {
      pattern: "*.co.uk",
      kind: "permit",
    });
    expect([suffix.status, suffix.json.details]).toEqual([400, { field: "pattern", code: "public_suffix" }]);
    expect((await agent.client.request("GET", "/api/admin/senders")).status).toBe(403);
    expect(
      (await agent.client.request("POST", "/api/admin/senders", { pattern: "x.example", kind: "block" }))
        .status,
    ).toBe(403);
    const listed = (await admin.client.request("GET", "/api/admin/senders")).json.items as Rule[];
    expect(listed.map((r) => r.pattern)).toContain("*.trusted-supplier.example");
    expect(listed.every((r) => r.scope === "tenant")).toBe(true);
    expect((await auditEvents(f.db, f.tenantId, "admin.senders.add")).length).toBeGreaterThan(0);
  });
});
