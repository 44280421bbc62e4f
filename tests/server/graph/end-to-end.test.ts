import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import type { Services } from "../../../server/context";
import { startTestServer, type TestServer } from "../../support/server";
import { startSmtpSink, type SmtpSink } from "../../support/smtp-sink";
import { ApiClient } from "../../support/http";
import { eventually, startGraphTestKit, type GraphTestKit } from "./kit";
import { capturingLogger } from "../../support/logger";
import { tenantOfDomain } from "../../factories";
import {
  drain,
  graphStartOptions,
  graphTestEnv,
  mailboxUser,
  processed,
  settled,
  switchMode,
  waitForSubscriptions,
} from "./harness";

let kit: GraphTestKit;
let sink: SmtpSink;
let server: TestServer;
let services: Services;
let adele: ApiClient;
let adeleId: string;
const ADELE = "adele@contoso.test";
const BOOKS = "xn--bcher-kva.example";
const logged = capturingLogger("info");

const moveRequests = (immutableId: string) =>
  kit.graph.requestLog.filter(
    (e) => e.method === "POST" && e.path.endsWith(`/messages/${immutableId}/move`) && e.status === 201,
  );
const hiddenFolder = () => kit.graph.folders(ADELE).find((f) => f.displayName === "Mailward Quarantine");

beforeAll(async () => {
  sink = await startSmtpSink();
  kit = await startGraphTestKit({
    users: [{ userPrincipalName: ADELE, displayName: "Adele Vance" }],
    smtp: { host: "127.0.0.1", port: sink.port },
  });
  server = await startTestServer(graphTestEnv(kit), { ...graphStartOptions(kit), logger: logged.logger });
  services = server.mailward.services;
  // A second, internationalised domain of the organisation, stored (as always) in punycode.
  await services.db
    .insertInto("tenant_domains")
    .values({
      tenant_id: await tenantOfDomain(services.db, "contoso.test"),
      domain: BOOKS,
      verified_at: new Date(),
    })
    .execute();
  const user = await mailboxUser(services, ADELE, "Adele Vance");
  adeleId = user.id;
  await switchMode(server.baseUrl, "graph");
  await waitForSubscriptions(kit, services, kit.graph.user(ADELE).id);
  await eventually(() => hiddenFolder(), 20_000, "the hidden quarantine folder");
  adele = await user.client(server.baseUrl);
});

afterAll(async () => {
  await server?.stop();
  await kit?.close();
  await sink?.close();
});

describe("Graph mode end to end (fakes for Microsoft, real DB/HTTP/SMTP)", () => {
  it("subscribes to the inbox and Sent Items after the validation handshake, and creates the quarantine folder hidden", () => {
    const mine = kit.graph.subscriptions().filter((s) => s.userId === kit.graph.user(ADELE).id);
    expect(mine.map((s) => s.folderId).sort()).toEqual(
      [kit.graph.user(ADELE).folderIds.inbox, kit.graph.user(ADELE).folderIds.sentitems].sort(),
    );
    expect(
      mine.every(
        (s) =>
          s.immutableIds && s.clientState && s.lifecycleNotificationUrl?.endsWith("/api/graph/lifecycle"),
      ),
    ).toBe(true);
    const validations = kit.graph.notifications.filter((n) => n.kind === "validation");
    expect(validations.length).toBeGreaterThanOrEqual(4);
    expect(validations.every((v) => v.ok)).toBe(true);
    expect(hiddenFolder()?.isHidden).toBe(true);
  });

  it("archives mail from colleagues as internal, at an internationalised domain too", async () => {
    const colleague = await kit.graph.deliver(ADELE, {
      from: "Megan <megan@contoso.test>",
      to: [ADELE],
      subject: "Rota for December",
      text: "Here is the rota.",
    });
    const books = await kit.graph.deliver(ADELE, {
      from: `Lena <lena@${BOOKS}>`,
      to: [ADELE],
      subject: "Stock count",
      text: "The count is done.",
    });
    const directions = await services.db
      .selectFrom("messages")
      .select("direction")
      .where("id", "in", [
        (await processed(services, colleague.immutableId)).message_id ?? "",
        (await processed(services, books.immutableId)).message_id ?? "",
      ])
      .execute();
    expect(directions.map((m) => m.direction)).toEqual(["internal", "internal"]);
  });

  it("notifies, scans and archives delivered mail; bad mail is held and moved to the hidden folder", async () => {
    const good = await kit.graph.deliver(ADELE, {
      from: "Priya <priya@fabrikam.test>",
      to: [ADELE],
      subject: "Quarterly numbers",
      text: "Hello Adele, the figures are attached as discussed.",
    });
    const bad = await kit.graph.deliver(ADELE, {
      from: "billing@fabrikam-invoices.test",
      to: [ADELE],
      subject: "Invoice overdue",
      text: "Please open the attached invoice.",
      attachments: [
        {
          filename: "invoice.exe",
          content: Buffer.from("MZ\x90\x00fake program"),
          contentType: "application/octet-stream",
        },
      ],
    });
    expect((await processed(services, good.immutableId)).verdict).toBe("delivered");
    const held = await processed(services, bad.immutableId);
    expect(held.verdict).toBe("held");
    const archived = await services.db
      .selectFrom("messages")
      .select(["subject", "source", "direction"])
      .where("id", "in", [
        held.message_id ?? "",
        (await processed(services, good.immutableId)).message_id ?? "",
      ])
      .execute();
    expect(archived.map((m) => m.subject).sort()).toEqual(["Invoice overdue", "Quarterly numbers"]);
    expect(archived.every((m) => m.source === "graph" && m.direction === "inbound")).toBe(true);

    await eventually(
      () =>
        kit.graph.messages(ADELE).find((m) => m.immutableId === bad.immutableId)?.folderId ===
        hiddenFolder()?.id,
      20_000,
      "the move to the hidden folder",
    );
    expect(kit.graph.messages(ADELE, "inbox").map((m) => m.subject)).toContain("Quarterly numbers");
    expect(kit.graph.messages(ADELE, "inbox").map((m) => m.subject)).not.toContain("Invoice overdue");

    const list = await adele.request("GET", "/api/held");
    expect(list.status).toBe(200);
    expect(
      (list.json.items as Array<{ subject: string; reason: string }>).map((i) => [i.subject, i.reason]),
    ).toContainEqual(["Invoice overdue", "dangerous_attachment"]);
    const search = await adele.request("GET", "/api/archive/search?q=Quarterly");
    expect((search.json.items as unknown[]).length).toBe(1);

    const changes = kit.graph.notifications.filter((n) => n.kind === "change");
    expect(changes.length).toBeGreaterThanOrEqual(2);
    expect(changes.every((n) => n.ok && n.status === 202 && n.durationMs < 3000)).toBe(true);
  });

  it("releases through our API: the message moves back to the inbox exactly once", async () => {
    const block = await adele.request("POST", "/api/senders", {
      pattern: "nuisance@spam.test",
      kind: "block",
    });
    expect(block.status).toBe(201);
    const message = await kit.graph.deliver(ADELE, {
      from: "nuisance@spam.test",
      to: [ADELE],
      subject: "Weekly deals",
      text: "Deals!",
    });
    const ledger = await processed(services, message.immutableId);
    expect(ledger.verdict).toBe("held");
    const hold = await services.db
      .selectFrom("held_items")
      .select("rule_scope")
      .where("id", "=", ledger.held_item_id!)
      .executeTakeFirstOrThrow();
    expect(hold.rule_scope).toBe("user");
    await eventually(
      () =>
        kit.graph.messages(ADELE).find((m) => m.immutableId === message.immutableId)?.folderId ===
        hiddenFolder()?.id,
      20_000,
      "quarantine move",
    );

    const first = await adele.request("POST", `/api/held/${ledger.held_item_id}/release`, {});
    expect(first.status).toBe(200);
    await eventually(
      () => kit.graph.messages(ADELE, "inbox").some((m) => m.immutableId === message.immutableId),
      20_000,
      "the move back",
    );
    const again = await adele.request("POST", `/api/held/${ledger.held_item_id}/release`, {});
    expect(again.status).toBe(200);
    await settled(kit, services);
    await drain(services);

    expect(moveRequests(message.immutableId)).toHaveLength(2); // in: quarantine; out: release
    const actions = await services.db
      .selectFrom("graph_actions")
      .select(["kind", "state", "outcome"])
      .where("held_item_id", "=", ledger.held_item_id)
      .orderBy("id")
      .execute();
    expect(actions).toEqual([
      { kind: "quarantine", state: "done", outcome: "moved" },
      { kind: "release", state: "done", outcome: "moved" },
    ]);
    // The move back notified the inbox again; the ledger kept it from being scanned and held a second time.
    expect(kit.graph.messages(ADELE, "inbox").some((m) => m.immutableId === message.immutableId)).toBe(true);
    const heldItems = await services.db
      .selectFrom("held_items")
      .select("status")
      .where("message_id", "=", ledger.message_id ?? "")
      .execute();
    expect(heldItems).toEqual([{ status: "released" }]);
  });

  it("blocking a sender from the add-in moves that sender's other inbox mail out (held, in the hidden folder)", async () => {
    const pests = [];
    for (let i = 0; i < 3; i += 1)
      pests.push(
        await kit.graph.deliver(ADELE, {
          from: "pest@annoy.test",
          to: [ADELE],
          subject: `Pest ${i}`,
          text: "hi",
        }),
      );
    const friend = await kit.graph.deliver(ADELE, {
      from: "friend@fabrikam.test",
      to: [ADELE],
      subject: "Lunch?",
      text: "Tomorrow?",
    });
    for (const m of [...pests, friend])
      expect((await processed(services, m.immutableId)).verdict).toBe("delivered");

    const block = await adele.request("POST", "/api/senders", { pattern: "pest@annoy.test", kind: "block" });
    expect(block.status).toBe(201);
    await eventually(
      () => kit.graph.messages(ADELE, "inbox").every((m) => !m.subject.startsWith("Pest")),
      20_000,
      "the sweep",
    );
    expect(
      kit.graph
        .messages(ADELE)
        .filter((m) => m.subject.startsWith("Pest"))
        .every((m) => m.folderId === hiddenFolder()?.id),
    ).toBe(true);
    expect(kit.graph.messages(ADELE, "inbox").map((m) => m.subject)).toContain("Lunch?");
    const list = await adele.request("GET", "/api/held?reason=blocked_sender");
    expect(
      (list.json.items as Array<{ subject: string }>)
        .map((i) => i.subject)
        .filter((s) => s.startsWith("Pest"))
        .sort(),
    ).toEqual(["Pest 0", "Pest 1", "Pest 2"]);
    // Held by the person's own block: theirs to release (an organisation's block would be a security admin's).
    const pestHolds = (list.json.items as Array<{ subject: string; actions: string[] }>).filter((i) =>
      i.subject.startsWith("Pest"),
    );
    expect(pestHolds.every((i) => i.actions.includes("release"))).toBe(true);
    const scopes = await services.db
      .selectFrom("held_items as h")
      .innerJoin("sender_rules as r", "r.id", "h.rule_id")
      .select(["h.rule_scope", "r.pattern"])
      .where("h.reason", "=", "blocked_sender")
      .where("r.pattern", "=", "pest@annoy.test")
      .execute();
    expect(scopes).toEqual(
      Array.from({ length: 3 }, () => ({ rule_scope: "user", pattern: "pest@annoy.test" })),
    );
    // Moves of a sweep go out in $batch.
    expect(
      kit.graph.requestLog.filter((e) => e.batchId !== undefined && e.path.endsWith("/move")).length,
    ).toBeGreaterThanOrEqual(3);
  });

  it("reporting spam moves the message to Junk in the mailbox", async () => {
    const message = await kit.graph.deliver(ADELE, {
      from: "promo@shop.test",
      to: [ADELE],
      subject: "Flash sale",
      text: "Buy now",
      internetMessageId: "<flash-sale-1@shop.test>",
    });
    expect((await processed(services, message.immutableId)).verdict).toBe("delivered");
    const report = await adele.request("POST", "/api/reports", {
      kind: "spam",
      internetMessageId: "<flash-sale-1@shop.test>",
    });
    expect([200, 201]).toContain(report.status);
    await eventually(
      () => kit.graph.messages(ADELE, "junkemail").some((m) => m.immutableId === message.immutableId),
      20_000,
      "the move to Junk",
    );
  });

  it("moves suspect mail (scored at least MAILWARD_SUSPECT_SCORE, under the hold threshold) to Junk, as the gateway's SCL 6 does", async () => {
    const suspect = await kit.graph.deliver(ADELE, {
      from: "notices@fabrikam-portal.test",
      to: [ADELE],
      subject: "Your password expires today",
      // A link with someone's name before '@' (url.userinfo): suspect on its own, not enough to hold.
      text: "Keep your password: http://login.contoso.test@fabrikam-portal.test/keep",
    });
    const filed = await processed(services, suspect.immutableId);
    expect(filed.verdict).toBe("junk");
    await eventually(
      () => kit.graph.messages(ADELE, "junkemail").some((m) => m.immutableId === suspect.immutableId),
      20_000,
      "the move to Junk",
    );
    const archived = await services.db
      .selectFrom("messages")
      .innerJoin("mailbox_links", "mailbox_links.message_id", "messages.id")
      .select(["messages.assessment", "mailbox_links.folder"])
      .where("messages.id", "=", filed.message_id ?? "")
      .executeTakeFirstOrThrow();
    const score = (archived.assessment as { score: number }).score;
    expect(score).toBeGreaterThanOrEqual(services.config.MAILWARD_SUSPECT_SCORE);
    expect(score).toBeLessThan(5);
    expect(archived.folder).toBe("junk");
    expect(
      await services.db
        .selectFrom("held_items")
        .select("id")
        .where("message_id", "=", filed.message_id ?? "")
        .execute(),
    ).toEqual([]);

    // The same mail from a sender the person permitted stays in the inbox.
    expect(
      (
        await adele.request("POST", "/api/senders", {
          pattern: "notices@fabrikam-portal.test",
          kind: "permit",
        })
      ).status,
    ).toBe(201);
    const permitted = await kit.graph.deliver(ADELE, {
      from: "notices@fabrikam-portal.test",
      to: [ADELE],
      subject: "Your password expires tomorrow",
      text: "Keep your password: http://login.contoso.test@fabrikam-portal.test/keep",
    });
    expect((await processed(services, permitted.immutableId)).verdict).toBe("delivered");
    expect(kit.graph.messages(ADELE, "inbox").some((m) => m.immutableId === permitted.immutableId)).toBe(
      true,
    );
  });

  it("forwards from the archive through Graph: it lands in Sent Items and reaches the recipient", async () => {
    const original = await services.db
      .selectFrom("messages")
      .select("id")
      .where("subject", "=", "Quarterly numbers")
      .executeTakeFirstOrThrow();
    const mark = kit.graph.requestLog.length;
    const res = await adele.request("POST", `/api/archive/${original.id}/forward`, {
      to: ["boss@outside.test"],
      note: "FYI",
    });
    expect(res.status).toBe(202);
    const copy = await eventually(
      () => kit.graph.messages(ADELE, "sentitems").find((m) => m.subject.includes("Quarterly numbers")),
      20_000,
      "the copy in Sent Items",
    );
    // The original is still in the inbox, so Graph's own forward sent it (not sendMail with our MIME).
    const sends = kit.graph.requestLog
      .slice(mark)
      .filter((e) => e.method === "POST" && /\/(forward|sendMail)$/.test(e.path));
    expect(sends.map((e) => [e.path.split("/").pop(), e.status])).toEqual([["forward", 202]]);
    expect(copy.subject).toBe("FW: Quarterly numbers");
    expect(kit.graph.mime(ADELE, copy.immutableId).toString("utf8")).toContain("FYI");
    await sink.waitFor((messages) => messages.some((m) => m.rcptTo.includes("boss@outside.test")), 20_000);
    const audit = await services.db
      .selectFrom("audit_events")
      .select("details")
      .where("action", "=", "archive.forwarded")
      .executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({ via: "graph", recipients: ["boss@outside.test"] });
    // The Sent Items notification archives the sent copy as outbound.
    await settled(kit, services);
    const sent = await services.db
      .selectFrom("graph_messages")
      .select(["verdict", "folder"])
      .where("mailbox_id", "in", (eb) =>
        eb.selectFrom("graph_mailboxes").select("id").where("user_id", "=", adeleId),
      )
      .where("folder", "=", "sentitems")
      .execute();
    expect(sent).toEqual([{ verdict: "archived", folder: "sentitems" }]);
  });

  it("shows admins the connector status, refuses others, and audits the mode switch", async () => {
    const admin = new ApiClient(server.baseUrl);
    await admin.login("admin@example.com", "correct horse battery");
    const status = await admin.request("GET", "/api/admin/graph");
    expect(status.status).toBe(200);
    expect(status.json).toMatchObject({ mode: "graph", configured: true });
    const mailboxes = status.json.mailboxes as Array<{
      address: string;
      monitored: boolean;
      quarantineFolder: boolean;
      subscriptions: unknown[];
    }>;
    expect(
      mailboxes.map((m) => [m.address, m.monitored, m.quarantineFolder, m.subscriptions.length]),
    ).toEqual([[ADELE, true, true, 2]]);
    const secrets = await services.db.selectFrom("graph_subscriptions").select("client_state").execute();
    for (const { client_state } of secrets) expect(status.text).not.toContain(client_state);
    expect((await admin.request("PUT", "/api/admin/graph/mode", { mode: "smtp" })).status).toBe(400);
    expect((await adele.request("GET", "/api/admin/graph")).status).toBe(403);
    expect((await adele.request("PUT", "/api/admin/graph/mode", { mode: "gateway" })).status).toBe(403);
    const audit = await services.db
      .selectFrom("audit_events")
      .select("details")
      .where("action", "=", "admin.graph.mode_changed")
      .execute();
    expect(audit.map((a) => a.details)).toEqual([{ before: "gateway", after: "graph" }]);
  });

  it("answers the validation handshake with the token as text/plain", async () => {
    const token = "Validation: Testing client application reachability <script>x</script>";
    const res = await fetch(
      `${server.baseUrl}/api/graph/notifications?validationToken=${encodeURIComponent(token)}`,
      { method: "POST", headers: { "content-type": "text/plain" } },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await res.text()).toBe(token);
  });

  it("drops and logs a notification whose clientState is wrong", async () => {
    const subscription = await services.db
      .selectFrom("graph_subscriptions")
      .select(["subscription_id", "mailbox_id"])
      .where("folder", "=", "inbox")
      .executeTakeFirstOrThrow();
    const before = await services.db
      .selectFrom("graph_notifications")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    const body = {
      value: [
        {
          subscriptionId: subscription.subscription_id,
          clientState: "not-the-secret",
          changeType: "created",
          resource: "Users/x/Messages/forged",
          resourceData: { id: "forged-id" },
        },
      ],
    };
    const res = await fetch(`${server.baseUrl}/api/graph/notifications`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
    const after = await services.db
      .selectFrom("graph_notifications")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    const line = logged.lines.find(
      (l) => l.includes("graph notification dropped") && l.includes("wrong_client_state"),
    );
    expect(line).toBeDefined();
    expect(line).toContain(subscription.subscription_id);
    expect(line).not.toContain("not-the-secret");
  });

  it("answers 503 service_unavailable when notifications cannot be stored, so that Graph sends them again", async () => {
    const subscription = await services.db
      .selectFrom("graph_subscriptions")
      .select(["subscription_id", "client_state"])
      .where("folder", "=", "inbox")
      .executeTakeFirstOrThrow();
    // The insert fails inside the database, as it does when the disk is full or the server is going down.
    await sql
      .raw(
        `CREATE FUNCTION mw_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full' USING ERRCODE = '53100'; END $$`,
      )
      .execute(services.db);
    await sql
      .raw(
        `CREATE TRIGGER mw_test_refuse BEFORE INSERT ON graph_notifications FOR EACH ROW EXECUTE FUNCTION mw_test_refuse()`,
      )
      .execute(services.db);
    try {
      const res = await fetch(`${server.baseUrl}/api/graph/notifications`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          value: [
            {
              subscriptionId: subscription.subscription_id,
              clientState: subscription.client_state,
              changeType: "created",
              resource: "Users/x/Messages/unstored",
              resourceData: { id: "unstored-id" },
            },
          ],
        }),
      });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).toBe("service_unavailable");
      expect(body.message).toMatch(/again/i);
    } finally {
      await sql.raw(`DROP TRIGGER mw_test_refuse ON graph_notifications`).execute(services.db);
      await sql.raw(`DROP FUNCTION mw_test_refuse()`).execute(services.db);
    }
    expect(logged.lines.some((l) => l.includes("graph notifications not stored"))).toBe(true);
  });

  it("never logs tokens or message content", () => {
    const text = logged.lines.join("");
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/);
    expect(text).not.toContain("Hello Adele");
    expect(text).not.toContain("fake program");
  });
});
