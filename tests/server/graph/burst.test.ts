import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../../server/context";
import { startTestServer, type TestServer } from "../../support/server";
import { clientRetryAfterViolations, eventually, startGraphTestKit, type GraphTestKit } from "./kit";
import { graphModeWithMailbox, graphStartOptions, graphTestEnv, settled } from "./harness";

let kit: GraphTestKit;
let server: TestServer;
let services: Services;
let adeleId: string;
const ADELE = "adele@contoso.test";
const TOTAL = Number(process.env.BURST_TOTAL ?? 500);
const BAD_EVERY = 20;

/** Raw MIME (cheaper for the fake than composing fields), with an executable attached to the bad ones. */
function burstMime(i: number, bad: boolean): Buffer {
  const head = [
    `From: sender${i % 37}@partners-${i % 5}.test`,
    `To: ${ADELE}`,
    `Subject: Burst ${i}`,
    `Message-ID: <burst-${i}@partners.test>`,
    "Date: Mon, 04 May 2026 10:00:00 +0000",
    "MIME-Version: 1.0",
  ];
  if (!bad)
    return Buffer.from(
      [...head, "Content-Type: text/plain; charset=utf-8", "", `Message number ${i} of the burst.`, ""].join(
        "\r\n",
      ),
    );
  const program = Buffer.from(`MZ program ${i}`).toString("base64");
  return Buffer.from(
    [
      ...head,
      'Content-Type: multipart/mixed; boundary="b"',
      "",
      "--b",
      "Content-Type: text/plain; charset=utf-8",
      "",
      `Message number ${i} of the burst.`,
      "--b",
      `Content-Type: application/octet-stream; name="setup-${i}.exe"`,
      `Content-Disposition: attachment; filename="setup-${i}.exe"`,
      "Content-Transfer-Encoding: base64",
      "",
      program,
      "--b--",
      "",
    ].join("\r\n"),
  );
}

beforeAll(async () => {
  kit = await startGraphTestKit({
    users: [{ userPrincipalName: ADELE, displayName: "Adele Vance" }],
    latencyMs: 2,
  });
  server = await startTestServer(graphTestEnv(kit), graphStartOptions(kit));
  services = server.mailward.services;
  adeleId = kit.graph.user(ADELE).id;
  await graphModeWithMailbox(kit, server, ADELE, "Adele Vance");
  await eventually(() => kit.graph.folders(ADELE).some((f) => f.isHidden), 20_000, "the quarantine folder");
});

afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

describe("a burst of 500 messages under forced throttling", () => {
  it(
    "processes every message once, honours every Retry-After and never has more than 4 requests in flight",
    { timeout: 300_000 },
    async () => {
      kit.graph.clearRequestLog();
      // 429s and 503s with Retry-After on the mailbox, spread over the run (direct requests and $batch sub-requests alike).
      kit.graph.faults.throttle({
        count: 5,
        retryAfterSeconds: 1,
        everyNth: 60,
        match: { mailbox: adeleId },
      });
      kit.graph.faults.unavailable({
        status: 503,
        count: 2,
        retryAfterSeconds: 1,
        everyNth: 150,
        match: { mailbox: adeleId },
      });
      const delivered: Array<{ id: string; bad: boolean }> = [];
      for (let i = 0; i < TOTAL; i += 1) {
        const bad = i % BAD_EVERY === 0;
        const message = await kit.graph.deliver(ADELE, burstMime(i, bad), { awaitNotifications: false });
        delivered.push({ id: message.immutableId, bad });
      }
      await settled(kit, services, 240_000);
      await eventually(
        async () => {
          const n = await services.db
            .selectFrom("graph_messages")
            .select((eb) => eb.fn.countAll<number>().as("n"))
            .where("state", "=", "done")
            .where("folder", "=", "inbox")
            .executeTakeFirstOrThrow();
          return Number(n.n) >= TOTAL;
        },
        60_000,
        "all 500 processed",
      );

      // Every message processed exactly once.
      const ledger = await services.db
        .selectFrom("graph_messages")
        .select(["graph_message_id", "state", "verdict"])
        .where("folder", "=", "inbox")
        .execute();
      expect(ledger).toHaveLength(TOTAL);
      expect(new Set(ledger.map((l) => l.graph_message_id))).toEqual(new Set(delivered.map((d) => d.id)));
      const byId = new Map(ledger.map((l) => [l.graph_message_id, l.verdict]));
      for (const d of delivered) expect(byId.get(d.id)).toBe(d.bad ? "held" : "delivered");
      const mimeFetches = new Map<string, number>();
      for (const entry of kit.graph.requestLog) {
        const match = /\/messages\/([^/]+)\/\$value$/.exec(entry.path);
        if (match?.[1] && entry.status === 200)
          mimeFetches.set(match[1], (mimeFetches.get(match[1]) ?? 0) + 1);
      }
      expect(mimeFetches.size).toBe(TOTAL);
      expect([...mimeFetches.values()].every((n) => n === 1)).toBe(true);
      const archived = await services.db
        .selectFrom("messages")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("subject", "like", "Burst %")
        .executeTakeFirstOrThrow();
      expect(Number(archived.n)).toBe(TOTAL);
      const held = await services.db.selectFrom("held_items").select("message_id").execute();
      expect(held).toHaveLength(TOTAL / BAD_EVERY);
      const hidden = kit.graph.folders(ADELE).find((f) => f.isHidden);
      expect(kit.graph.messages(ADELE, hidden?.id).filter((m) => m.subject.startsWith("Burst"))).toHaveLength(
        TOTAL / BAD_EVERY,
      );

      // The forced throttling happened, and nothing started inside a Retry-After window.
      const throttled = kit.graph.requestLog.filter((e) => e.status === 429 || e.status === 503);
      expect(throttled.length).toBe(TOTAL >= 500 ? 7 : throttled.length);
      // From the fake's log: nothing Mailward sent after a Retry-After reached it started inside that window; requests
      // already on the wire when Graph throttled a sibling are the only ones allowed (few: at most the 3 siblings per throttle).
      const violations = clientRetryAfterViolations(kit);
      expect(violations.avoidable).toEqual([]);
      expect(violations.inTransit.length).toBeLessThanOrEqual(throttled.length * 3);
      expect(kit.graph.maxInFlight(adeleId)).toBeLessThanOrEqual(4);
      expect(kit.graph.requestLog.filter((e) => e.fault === "MailboxConcurrency")).toHaveLength(0);
      // Every notification was answered with 2xx within Graph's 3 s.
      const changes = kit.graph.notifications.filter((n) => n.kind === "change");
      expect(changes.length).toBeGreaterThanOrEqual(TOTAL);
      expect(changes.filter((n) => !n.ok || n.durationMs >= 3000)).toEqual([]);
    },
  );
});
