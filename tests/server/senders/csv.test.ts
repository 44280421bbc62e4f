import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSelfServiceFixture, type SelfServiceFixture } from "../held/support";

let f: SelfServiceFixture;
let agent: Awaited<ReturnType<SelfServiceFixture["user"]>>;

beforeAll(async () => {
  f = await startSelfServiceFixture();
  agent = await f.user();
});
afterAll(async () => {
  await f?.server.stop();
});

describe("CSV import and export", () => {
  it("exports the caller's list as CSV and imports it back, reporting bad lines by number", async () => {
    const importer = await f.user();
    const csv = [
      "pattern,kind,expires_at",
      "good@import.example,block,",
      "import.example,permit," + new Date(Date.now() + 86_400_000).toISOString(),
      "not valid,block,",
      "x@y.example,allow,",
      `${importer.email},permit,`,
      "old@import.example,block,2001-01-01T00:00:00Z",
      "",
      "# a comment",
      '"quoted@import.example",block,',
      "*.co.uk,permit,",
      "bob*@import.example,block,",
    ].join("\n");
    const res = await importer.client.request("POST", "/api/senders/import", { csv });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ created: 3, updated: 0, unchanged: 0 });
    expect((res.json.errors as Array<{ line: number; error: string }>).map((e) => [e.line, e.error])).toEqual(
      [
        [4, "invalid_request"],
        [5, "invalid_request"],
        [6, "spoofing_not_allowed"],
        [7, "invalid_request"],
        [11, "invalid_request"],
        [12, "invalid_request"],
      ],
    );
    // The wildcard row is refused, saying which forms a pattern takes, and nothing of it is stored.
    const wildcardRow = (res.json.errors as Array<{ line: number; message: string }>).find(
      (e) => e.line === 12,
    );
    expect(wildcardRow?.message).toMatch(/\*\.b\.com/);
    const again = await importer.client.request("POST", "/api/senders/import", { csv });
    expect(again.json).toMatchObject({ created: 0, unchanged: 3 });
    const exported = await importer.client.request("GET", "/api/senders/export");
    expect(exported.status).toBe(200);
    expect(exported.headers.get("content-type")).toContain("text/csv");
    const lines = exported.text.trim().split("\r\n");
    expect(lines[0]).toBe("pattern,kind,expires_at");
    expect(lines.slice(1).map((l) => l.split(",").slice(0, 2).join(","))).toEqual([
      "good@import.example,block",
      "import.example,permit",
      "quoted@import.example,block",
    ]);
    const roundTrip = await f.user();
    const back = await roundTrip.client.request("POST", "/api/senders/import", { csv: exported.text });
    expect(back.json).toMatchObject({ created: 3, errors: [] });
  });

  it("imports a headerless first line whose domain begins with 'pattern', and skips a header after comments", async () => {
    const importer = await f.user();
    const headerless = await importer.client.request("POST", "/api/senders/import", {
      csv: "pattern.io,block\r\npattern-labs.example,block\r\nother.example,block\r\n",
    });
    expect(headerless.json).toMatchObject({ created: 3, errors: [] });
    const headed = await importer.client.request("POST", "/api/senders/import", {
      csv: "# exported from our old gateway\n\nPattern,Kind,Expires_At\nheaded.example,block,\n",
    });
    expect(headed.json).toMatchObject({ created: 1, errors: [] });
    const rules = await f.db
      .selectFrom("sender_rules")
      .select("pattern")
      .where("user_id", "=", importer.id)
      .orderBy("pattern")
      .execute();
    expect(rules.map((r) => r.pattern)).toEqual([
      "headed.example",
      "other.example",
      "pattern-labs.example",
      "pattern.io",
    ]);
  });

  it("reports a line of the other kind than a rule already there as a conflict (as POST answers 409), and keeps the rule", async () => {
    const importer = await f.user();
    const single = async (pattern: string, kind: string) =>
      importer.client.request("POST", "/api/senders", { pattern, kind });
    expect((await single("clash.example", "block")).status).toBe(201);
    expect((await single("friend@clash.example", "permit")).status).toBe(201);
    const post = await single("clash.example", "permit");
    expect([post.status, post.json.error]).toEqual([409, "already_exists"]);

    const res = await importer.client.request("POST", "/api/senders/import", {
      csv: [
        "pattern,kind,expires_at",
        "clash.example,permit,",
        "friend@clash.example,block,",
        "new.clash-free.example,block,",
        "clash.example,block,",
      ].join("\n"),
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ created: 1, updated: 0, unchanged: 1 });
    expect(res.json.errors).toEqual([
      {
        line: 2,
        error: "already_exists",
        message: "clash.example is already on the block list. Remove it there first.",
      },
      {
        line: 3,
        error: "already_exists",
        message: "friend@clash.example is already on the permit list. Remove it there first.",
      },
    ]);
    const rules = await f.db
      .selectFrom("sender_rules")
      .select(["pattern", "kind", "source"])
      .where("user_id", "=", importer.id)
      .orderBy("pattern")
      .execute();
    expect(rules).toEqual([
      { pattern: "clash.example", kind: "block", source: "manual" },
      { pattern: "friend@clash.example", kind: "permit", source: "manual" },
      { pattern: "new.clash-free.example", kind: "block", source: "import" },
    ]);
  });

  it("refuses an oversized import (400)", async () => {
    const csv = Array.from({ length: 5001 }, (_, i) => `a${i}@big.example,block,`).join("\n");
    expect((await agent.client.request("POST", "/api/senders/import", { csv })).status).toBe(400);
  });
});
