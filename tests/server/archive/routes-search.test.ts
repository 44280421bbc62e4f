import { randomUUID } from "node:crypto";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { encodeCursor } from "../../../server/archive/cursor";
import { defaultTenant, fileFor, mimeMessage, signedIn, uniqueWord } from "./helpers";

let server: TestServer;
let tenantId: string;
type Hit = { id: string; subject: string; date: string; snippet: string; snippetHtml?: string };

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_ADMIN_TOTP: "optional" });
  tenantId = await defaultTenant(server.mailward.services.db);
});
afterAll(async () => {
  await server?.stop();
});

describe("GET /api/archive/search", () => {
  it("finds mail sent over SMTP right after the gateway's 250 (searchable within 1 s)", async () => {
    const agent = await signedIn(server.mailward.services.db, server.baseUrl);
    const word = uniqueWord();
    const transport = nodemailer.createTransport({
      host: "127.0.0.1",
      port: server.smtpPort,
      secure: false,
      ignoreTLS: true,
    });
    const info = await transport.sendMail({
      envelope: { from: "customer@outside.example", to: [agent.email] },
      raw: mimeMessage({
        to: agent.email,
        subject: `Order question ${word}`,
        text: `Hello, about my order ${word}. Thanks, Dana`,
      }),
    });
    const accepted = performance.now();
    transport.close();
    expect(info.response).toMatch(/^250/);
    const res = await agent.client.request("GET", `/api/archive/search?q=${word}`);
    const elapsed = performance.now() - accepted;
    expect(res.status).toBe(200);
    const items = res.json.items as Hit[];
    expect(items.map((h) => h.subject)).toEqual([`Order question ${word}`]);
    expect(items[0]?.snippetHtml).toContain(`<mark>${word}</mark>`);
    expect(res.json.estimatedTotal).toBe(1);
    expect(typeof res.json.tookMs).toBe("number");
    expect(elapsed).toBeLessThan(1000);
  });

  it("pages newest first with a keyset cursor, without gaps or repeats", async () => {
    const agent = await signedIn(server.mailward.services.db, server.baseUrl);
    const word = uniqueWord();
    for (let n = 0; n < 7; n++) {
      const raw = mimeMessage({
        to: agent.email,
        subject: `Ticket ${n} ${word}`,
        text: `Body ${n} ${word}`,
        date: new Date(Date.UTC(2024, 0, 1 + n)),
      });
      await fileFor(server.mailward.services.db, tenantId, raw, [agent]);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/api/archive/search?q=${word}&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const res = await agent.client.request("GET", query);
      expect(res.status).toBe(200);
      if (pages === 0) expect(res.json.estimatedTotal).toBe(7);
      seen.push(...(res.json.items as Hit[]).map((h) => h.subject));
      cursor = res.json.nextCursor as string | null;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0].map((n) => `Ticket ${n} ${word}`));
  });

  it("ranks by relevance on request (subject matches before body matches), paging by rank", async () => {
    const agent = await signedIn(server.mailward.services.db, server.baseUrl);
    const word = uniqueWord();
    await fileFor(
      server.mailward.services.db,
      tenantId,
      mimeMessage({
        to: agent.email,
        subject: "Newer, body only",
        text: `mentions ${word} once`,
        date: new Date("2024-05-02T00:00:00Z"),
      }),
      [agent],
    );
    await fileFor(
      server.mailward.services.db,
      tenantId,
      mimeMessage({
        to: agent.email,
        subject: `Older ${word} in subject`,
        text: `and ${word} in body`,
        date: new Date("2024-05-01T00:00:00Z"),
      }),
      [agent],
    );
    const byDate = await agent.client.request("GET", `/api/archive/search?q=${word}`);
    expect((byDate.json.items as Hit[]).map((h) => h.subject)).toEqual([
      "Newer, body only",
      `Older ${word} in subject`,
    ]);
    const first = await agent.client.request("GET", `/api/archive/search?q=${word}&sort=relevance&limit=1`);
    expect((first.json.items as Hit[]).map((h) => h.subject)).toEqual([`Older ${word} in subject`]);
    const second = await agent.client.request(
      "GET",
      `/api/archive/search?q=${word}&sort=relevance&limit=1&cursor=${encodeURIComponent(String(first.json.nextCursor))}`,
    );
    expect((second.json.items as Hit[]).map((h) => h.subject)).toEqual(["Newer, body only"]);
    expect(second.json.nextCursor).toBeNull();
  });

  it("answers 400 invalid_query with the position that broke, and 400 for a forged cursor", async () => {
    const agent = await signedIn(server.mailward.services.db, server.baseUrl);
    const res = await agent.client.request(
      "GET",
      `/api/archive/search?q=${encodeURIComponent("refund (order")}`,
    );
    expect(res.status).toBe(400);
    expect(res.json.error).toBe("invalid_query");
    expect((res.json.details as { position: number }).position).toBe(7);
    const bad = await agent.client.request("GET", "/api/archive/search?q=x&cursor=bm90LWEtY3Vyc29y");
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe("invalid_request");
    // Shaped like a timestamp but none (month 13): PostgreSQL's cast refused it, a 500.
    for (const sort of ["date", "relevance"]) {
      const cursor = encodeCursor({
        v: 1,
        s: sort as "date",
        d: "2024-13-45 10:00:00+00",
        i: randomUUID(),
        r: "0.1",
      });
      const forged = await agent.client.request(
        "GET",
        `/api/archive/search?q=x&sort=${sort}&cursor=${cursor}`,
      );
      expect(forged.status, sort).toBe(400);
      expect(forged.json.error).toBe("invalid_request");
    }
  });

  it("refuses the anonymous (401) and scope=all without archive.read_any (403)", async () => {
    expect((await new ApiClient(server.baseUrl).request("GET", "/api/archive/search?q=x")).status).toBe(401);
    const agent = await signedIn(server.mailward.services.db, server.baseUrl);
    const res = await agent.client.request("GET", "/api/archive/search?q=x&scope=all");
    expect(res.status).toBe(403);
  });

  it("never shows an agent another agent's mail: not in results, totals or snippets", async () => {
    const db = server.mailward.services.db;
    const alice = await signedIn(db, server.baseUrl);
    const bob = await signedIn(db, server.baseUrl);
    const secret = uniqueWord("secret");
    const shared = uniqueWord("shared");
    await fileFor(
      db,
      tenantId,
      mimeMessage({
        to: alice.email,
        subject: `Alice ${shared}`,
        text: `${secret} ${shared} account number 4411`,
      }),
      [alice],
    );
    await fileFor(
      db,
      tenantId,
      mimeMessage({ to: bob.email, subject: `Bob ${shared}`, text: `hello ${shared}` }),
      [bob],
    );
    const mine = await bob.client.request("GET", `/api/archive/search?q=${shared}`);
    expect((mine.json.items as Hit[]).map((h) => h.subject)).toEqual([`Bob ${shared}`]);
    expect(mine.json.estimatedTotal).toBe(1);
    expect(mine.text).not.toContain(secret);
    for (const q of [
      secret,
      `"${secret} ${shared}"`,
      `${secret} OR ${uniqueWord()}`,
      `from:customer ${secret}`,
    ]) {
      const res = await bob.client.request(
        "GET",
        `/api/archive/search?q=${encodeURIComponent(q)}&sort=relevance`,
      );
      expect(res.json.items).toEqual([]);
      expect(res.json.estimatedTotal).toBe(0);
      expect(res.text).not.toContain(secret);
    }
    const hers = await alice.client.request("GET", `/api/archive/search?q=${secret}`);
    expect((hers.json.items as Hit[]).length).toBe(1);
  });
});
