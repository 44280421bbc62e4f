import { archiveMessage } from "../../../shared/schemas/archive";
import { simpleParser } from "mailparser";
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../../server/context";
import type { MessageInput } from "../../fakes/graph/mime";
import { startTestServer, type TestServer } from "../../support/server";
import type { ApiClient } from "../../support/http";
import { eventually, startGraphTestKit, type GraphTestKit } from "./kit";
import { capturingLogger } from "../../support/logger";
import { SENT_ITEMS_SETTLE_MS } from "../../../server/graph/archive-send";
import { graphModeWithMailbox, graphStartOptions, graphTestEnv, processed } from "./harness";

let kit: GraphTestKit;
let server: TestServer;
let services: Services;
let adele: ApiClient;
const ADELE = "adele@contoso.test";
const logged = capturingLogger("info");

beforeAll(async () => {
  kit = await startGraphTestKit({ users: [{ userPrincipalName: ADELE, displayName: "Adele Vance" }] });
  server = await startTestServer(graphTestEnv(kit), { ...graphStartOptions(kit), logger: logged.logger });
  services = server.mailward.services;
  const user = await graphModeWithMailbox(kit, server, ADELE, "Adele Vance");
  adele = await user.client(server.baseUrl);
});

afterEach(() => kit.graph.faults.clear());

afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

/** Delivers mail to Adele's inbox at the fake and waits until Mailward archived it. */
async function delivered(input: MessageInput) {
  const view = await kit.graph.deliver(ADELE, { to: [ADELE], ...input });
  const ledger = await processed(services, view.immutableId);
  if (!ledger.message_id) throw new Error("not archived");
  return { view, archiveId: ledger.message_id };
}

const action = (outgoingId: string) =>
  services.db
    .selectFrom("graph_actions")
    .selectAll()
    .where("message_id", "=", outgoingId)
    .executeTakeFirstOrThrow();

const settledAction = (outgoingId: string, state = "done") =>
  eventually(
    async () => {
      const row = await action(outgoingId);
      return row.state === state ? row : undefined;
    },
    30_000,
    `the send action to be ${state}`,
  );

/** Moves a send's attempt marker back by SENT_ITEMS_SETTLE_MS, as if Exchange had had the time to file its copy. */
async function settleTimePassed(outgoingId: string): Promise<void> {
  const row = await action(outgoingId);
  const attempt = row.details.attempt as { at: string };
  const at = new Date(Date.parse(attempt.at) - SENT_ITEMS_SETTLE_MS).toISOString();
  await services.db
    .updateTable("graph_actions")
    .set({ details: sql<string>`details || ${JSON.stringify({ attempt: { ...attempt, at } })}::jsonb` })
    .where("id", "=", row.id)
    .execute();
}

/** The send action once an attempt has failed (it has a last error), whatever state that left it in. */
const failedAction = (outgoingId: string) =>
  eventually(
    async () => {
      const row = await action(outgoingId);
      return row.last_error ? row : undefined;
    },
    20_000,
    "the send action to fail once",
  );

/** POSTs Graph received since `mark` for one original (forward/reply/replyAll) or for sendMail. */
const posts = (mark: number, suffix: RegExp) =>
  kit.graph.requestLog.slice(mark).filter((e) => e.method === "POST" && suffix.test(e.path));

const sentCopy = async (subject: string) => {
  const copy = kit.graph.messages(ADELE, "sentitems").find((m) => m.subject === subject);
  if (!copy) throw new Error(`no '${subject}' in Sent Items`);
  return { copy, parsed: await simpleParser(kit.graph.mime(ADELE, copy.immutableId)) };
};

/** The archived messages in Adele's sent folder with this subject (the archive's view of her Sent Items). */
const archivedSent = async (subject: string) =>
  (
    await services.db
      .selectFrom("mailbox_links")
      .innerJoin("messages", "messages.id", "mailbox_links.message_id")
      .innerJoin("users", "users.id", "mailbox_links.user_id")
      .select("messages.id")
      .where("users.email", "=", ADELE)
      .where("mailbox_links.folder", "=", "sent")
      .where("messages.subject", "=", subject)
      .execute()
  ).map((r) => r.id);

/** Waits until Mailward filed the Sent Items copy; returns its ledger row. */
const filedCopy = async (subject: string) => processed(services, (await sentCopy(subject)).copy.immutableId);

describe("POST /api/archive/:id/forward in graph mode", () => {
  it("forwards a message still in the mailbox with Graph's forward: Sent Items has the note and the attachment", async () => {
    const { view, archiveId } = await delivered({
      from: "Priya <priya@fabrikam.test>",
      subject: "Budget figures",
      text: "The budget is attached.",
      attachments: [{ filename: "figures.csv", content: "q1,q2\n10,20\n", contentType: "text/csv" }],
    });
    const mark = kit.graph.requestLog.length;
    const sentBefore = kit.graph.sentMail.length;
    const res = await adele.request("POST", `/api/archive/${archiveId}/forward`, {
      to: ["Controller@Outside.test"],
      note: "Numbers for the board pack",
    });
    expect(res.status).toBe(202);
    const row = await settledAction(res.json.id as string);
    expect(row.outcome).toBe("forwarded");
    expect(row.graph_message_id).toBe(view.immutableId);
    const forwards = posts(mark, /\/forward$/);
    expect(forwards.map((e) => [e.path.endsWith(`/messages/${view.immutableId}/forward`), e.status])).toEqual(
      [[true, 202]],
    );
    expect(posts(mark, /\/sendMail$/)).toEqual([]);
    expect(kit.graph.sentMail.length - sentBefore).toBe(1);
    const { copy, parsed } = await sentCopy("FW: Budget figures");
    expect(copy.to.map((m) => m.address)).toEqual(["controller@outside.test"]);
    expect(parsed.text).toContain("Numbers for the board pack");
    expect(parsed.attachments.map((a) => a.filename)).toEqual(["figures.csv"]);
    const audit = await services.db
      .selectFrom("audit_events")
      .select("details")
      .where("action", "=", "archive.forwarded")
      .where("target_id", "=", archiveId)
      .executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({ via: "graph", recipients: ["controller@outside.test"] });
  });

  it("archives the forward once: Exchange's Sent Items copy is filed as the message archived at the request", async () => {
    const { archiveId } = await delivered({
      from: "ap@fabrikam.test",
      subject: "Invoice 7781",
      text: "Due.",
    });
    const res = await adele.request("POST", `/api/archive/${archiveId}/forward`, {
      to: ["books@outside.test"],
      note: "Please pay this one   before Friday",
    });
    const outgoingId = res.json.id as string;
    await settledAction(outgoingId);
    const ledger = await filedCopy("FW: Invoice 7781");
    expect(ledger.message_id).toBe(outgoingId);
    expect((await action(outgoingId)).details.sentCopy).toBe(ledger.graph_message_id);
    const outgoing = await services.db
      .selectFrom("messages")
      .select("subject")
      .where("id", "=", outgoingId)
      .executeTakeFirstOrThrow();
    expect(await archivedSent(outgoing.subject)).toEqual([outgoingId]);
    expect(await archivedSent("FW: Invoice 7781")).toEqual(
      outgoing.subject === "FW: Invoice 7781" ? [outgoingId] : [],
    );
  });

  it("archives a Sent Items copy it cannot tell apart from the person's own mail (a forward without a note)", async () => {
    const { archiveId } = await delivered({ from: "ap@fabrikam.test", subject: "Statement", text: "Q3." });
    const res = await adele.request("POST", `/api/archive/${archiveId}/forward`, {
      to: ["books@outside.test"],
    });
    const outgoingId = res.json.id as string;
    await settledAction(outgoingId);
    const ledger = await filedCopy("FW: Statement");
    expect(ledger.message_id).not.toBeNull();
    expect(ledger.message_id).not.toBe(outgoingId);
    expect(await archivedSent("FW: Statement")).toEqual([ledger.message_id]);
    expect((await action(outgoingId)).details.sentCopy).toBeUndefined();
  });

  it("does not forward again when a run that already sent it is retried (lost settle)", async () => {
    const { archiveId } = await delivered({ from: "ops@fabrikam.test", subject: "Rota", text: "Rota." });
    const res = await adele.request("POST", `/api/archive/${archiveId}/forward`, {
      to: ["lead@outside.test"],
    });
    const outgoingId = res.json.id as string;
    await settledAction(outgoingId);
    const mark = kit.graph.requestLog.length;
    const sentBefore = kit.graph.sentMail.length;
    // As if the worker died after Graph accepted the forward but before it recorded that: the lease runs out (after
    // Exchange had filed its copy).
    await settleTimePassed(outgoingId);
    await services.db
      .updateTable("graph_actions")
      .set({ state: "processing", locked_until: new Date(Date.now() - 1000), outcome: null, done_at: null })
      .where("message_id", "=", outgoingId)
      .execute();
    const row = await settledAction(outgoingId);
    expect(row.outcome).toBe("already_sent");
    expect(posts(mark, /\/(forward|sendMail)$/)).toEqual([]);
    expect(kit.graph.sentMail.length).toBe(sentBefore);
  });

  it("says at once that a forward too large for one Graph request (4 MB) cannot go, instead of trying ten times", async () => {
    const { view, archiveId } = await delivered({
      from: "design@fabrikam.test",
      subject: "Artwork",
      text: "Attached.",
      attachments: [
        {
          filename: "artwork.pdf",
          content: Buffer.alloc(3 * 1024 * 1024, 7),
          contentType: "application/pdf",
        },
      ],
    });
    kit.graph.deleteMessage(ADELE, view.immutableId);
    const mark = kit.graph.requestLog.length;
    const res = await adele.request("POST", `/api/archive/${archiveId}/forward`, {
      to: ["print@outside.test"],
    });
    const row = await settledAction(res.json.id as string);
    expect([row.outcome, row.attempts]).toEqual(["too_large", 1]);
    expect(posts(mark, /\/sendMail$/)).toEqual([]);
    const sending = archiveMessage.parse(
      (await adele.request("GET", `/api/archive/${res.json.id as string}`)).json,
    ).sending;
    expect(sending?.state).toBe("failed");
    expect(sending?.detail).toContain("4 MB");
  });

  it("falls back to sendMail with the composed MIME when the original is no longer in the mailbox", async () => {
    const { view, archiveId } = await delivered({
      from: "hr@fabrikam.test",
      subject: "Old policy",
      text: "v1",
    });
    kit.graph.deleteMessage(ADELE, view.immutableId);
    const mark = kit.graph.requestLog.length;
    const res = await adele.request("POST", `/api/archive/${archiveId}/forward`, {
      to: ["legal@outside.test"],
    });
    expect(res.status).toBe(202);
    const row = await settledAction(res.json.id as string);
    expect(row.outcome).toBe("sent");
    expect(posts(mark, /\/forward$/)).toEqual([]);
    expect(posts(mark, /\/sendMail$/).map((e) => e.status)).toEqual([202]);
    const { copy } = await sentCopy("Fwd: Old policy");
    const mime = kit.graph.mime(ADELE, copy.immutableId).toString("utf8");
    expect(mime).toMatch(/Content-Type: message\/rfc822; name=original\.eml/i);
    // Exchange keeps sendMail's Message-ID: its copy is the message archived at the request.
    const outgoingId = res.json.id as string;
    expect((await processed(services, copy.immutableId)).message_id).toBe(outgoingId);
    expect(await archivedSent("Fwd: Old policy")).toEqual([outgoingId]);
  });

  it("sends the MIME once when the original vanishes between the lookup and the forward (404)", async () => {
    const { view, archiveId } = await delivered({
      from: "it@fabrikam.test",
      subject: "Vanishing",
      text: "x",
    });
    kit.graph.faults.slow(1500, { match: { method: "POST", path: /\/forward$/ } });
    const mark = kit.graph.requestLog.length;
    const sentBefore = kit.graph.sentMail.length;
    const res = await adele.request("POST", `/api/archive/${archiveId}/forward`, {
      to: ["sec@outside.test"],
    });
    await eventually(
      () => kit.sent.some((s) => s.method === "POST" && s.url.endsWith(`/${view.immutableId}/forward`)),
      20_000,
      "the forward to be on its way",
    );
    kit.graph.deleteMessage(ADELE, view.immutableId);
    const row = await settledAction(res.json.id as string);
    expect(row.outcome).toBe("sent");
    expect([row.attempts, row.last_error]).toEqual([1, null]); // in the same run, not after a failed one
    expect(posts(mark, /\/forward$/).map((e) => e.status)).toEqual([404]);
    expect(posts(mark, /\/sendMail$/).map((e) => e.status)).toEqual([202]);
    expect(kit.graph.sentMail.length - sentBefore).toBe(1);
  });

  it("says clearly when Graph refuses (403), sends nothing, and sends once after it is fixed", async () => {
    const { archiveId } = await delivered({ from: "cfo@fabrikam.test", subject: "Refused", text: "y" });
    const fault = kit.graph.faults.add({
      status: 403,
      code: "ErrorAccessDenied",
      message: "Access is denied. Check credentials and try again.",
      count: Number.POSITIVE_INFINITY,
      match: { method: "POST", path: /\/forward$/ },
    });
    const mark = kit.graph.requestLog.length;
    const sentBefore = kit.graph.sentMail.length;
    const res = await adele.request("POST", `/api/archive/${archiveId}/forward`, {
      to: ["ceo@outside.test"],
    });
    const outgoingId = res.json.id as string;
    const refused = await failedAction(outgoingId);
    expect(refused.state).toBe("pending");
    expect(refused.last_error).toMatch(/^SendRefused: forward refused by Graph \(403 ErrorAccessDenied\)/);
    expect(refused.last_error).toContain("Mail.Send");
    expect(refused.details.attempt).toBeUndefined(); // Graph surely sent nothing: no Sent Items check needed.
    // The person sees it on the message they sent, not only the administrators on the connector's status.
    const seen = archiveMessage.parse(
      (await adele.request("GET", `/api/archive/${outgoingId}`)).json,
    ).sending;
    expect(seen).toMatchObject({ via: "graph", state: "refused", recipients: [] });
    expect(seen?.detail).toMatch(/Mail\.Send.*administrator/);
    expect(posts(mark, /\/sendMail$/)).toEqual([]);
    expect(kit.graph.sentMail.length).toBe(sentBefore);

    kit.graph.faults.remove(fault);
    await services.db
      .updateTable("graph_actions")
      .set({ next_attempt_at: new Date(0) })
      .where("id", "=", refused.id)
      .execute();
    expect((await settledAction(outgoingId)).outcome).toBe("forwarded");
    expect(posts(mark, /\/forward$/).filter((e) => e.status === 202)).toHaveLength(1);
    expect((await adele.request("GET", `/api/archive/${outgoingId}`)).json.sending).toMatchObject({
      state: "sent",
      detail: "Sent from your mailbox; it is in your Sent Items.",
    });
    expect(kit.graph.sentMail.length - sentBefore).toBe(1);
  });

  it("retries after a server error (maybe sent): waits for Sent Items to settle, finds nothing, forwards once", async () => {
    const { archiveId } = await delivered({ from: "pm@fabrikam.test", subject: "Flaky", text: "z" });
    kit.graph.faults.add({ status: 500, match: { method: "POST", path: /\/forward$/ } });
    const mark = kit.graph.requestLog.length;
    const res = await adele.request("POST", `/api/archive/${archiveId}/forward`, { to: ["qa@outside.test"] });
    const outgoingId = res.json.id as string;
    const failed = await failedAction(outgoingId);
    expect(failed.details.attempt).toMatchObject({ route: "forward" });
    // Due at once, it still sends nothing before Exchange has had time to file a copy of the first attempt.
    const due = async () =>
      sql`update graph_actions set next_attempt_at = now() - interval '1 second' where id = ${failed.id}`.execute(
        services.db,
      );
    await due();
    const waiting = await eventually(async () => {
      const row = await action(outgoingId);
      return row.last_error?.startsWith("AwaitingSentItems") ? row : undefined;
    });
    expect(waiting.state).toBe("pending");
    expect(waiting.attempts).toBe(failed.attempts);
    const attemptAt = Date.parse(String((failed.details.attempt as { at: string }).at));
    expect(new Date(waiting.next_attempt_at).getTime()).toBe(attemptAt + SENT_ITEMS_SETTLE_MS);
    const sending = archiveMessage.parse(
      (await adele.request("GET", `/api/archive/${outgoingId}`)).json,
    ).sending;
    expect(sending?.state).toBe("retrying");
    expect(sending?.detail).toContain("may have sent it already");
    expect(posts(mark, /\/forward$/).map((e) => e.status)).toEqual([500]);
    // Once the copy had time to appear, Sent Items is looked at; it is not there, so it goes out once more.
    await settleTimePassed(outgoingId);
    await due();
    expect((await settledAction(outgoingId)).outcome).toBe("forwarded");
    expect(posts(mark, /\/forward$/).map((e) => e.status)).toEqual([500, 202]);
    expect(
      kit.graph.requestLog
        .slice(mark)
        .some((e) => e.method === "GET" && /sentitems\/messages$/i.test(e.path)),
    ).toBe(true);
  });

  it("does not send again after a gateway timeout that came after Exchange sent it (504)", async () => {
    const { archiveId } = await delivered({ from: "pm@fabrikam.test", subject: "Timed out", text: "t" });
    kit.graph.faults.add({ status: 504, afterWork: true, match: { method: "POST", path: /\/forward$/ } });
    const sentBefore = kit.graph.sentMail.length;
    const mark = kit.graph.requestLog.length;
    const res = await adele.request("POST", `/api/archive/${archiveId}/forward`, {
      to: ["ops@outside.test"],
    });
    const outgoingId = res.json.id as string;
    const failed = await failedAction(outgoingId);
    // Not repeated on the spot: a 504 does not say that nothing was sent.
    expect(posts(mark, /\/forward$/).map((e) => e.status)).toEqual([504]);
    expect(kit.graph.sentMail.length - sentBefore).toBe(1);
    await settleTimePassed(outgoingId);
    await services.db
      .updateTable("graph_actions")
      .set({ next_attempt_at: new Date(0) })
      .where("id", "=", failed.id)
      .execute();
    expect((await settledAction(outgoingId)).outcome).toBe("already_sent");
    expect(posts(mark, /\/forward$/)).toHaveLength(1);
    expect(kit.graph.sentMail.length - sentBefore).toBe(1);
  });
});

describe("POST /api/archive/:id/reply in graph mode", () => {
  it("replies with Graph's reply, and replyAll when asked, threaded in Sent Items", async () => {
    const { view, archiveId } = await delivered({
      from: "Priya <priya@fabrikam.test>",
      cc: ["carol@fabrikam.test"],
      subject: "Offsite dates",
      text: "Which week suits you?",
      internetMessageId: "<offsite-1@fabrikam.test>",
    });
    const mark = kit.graph.requestLog.length;
    const one = await adele.request("POST", `/api/archive/${archiveId}/reply`, { text: "The second week." });
    expect(one.status).toBe(202);
    expect((await settledAction(one.json.id as string)).outcome).toBe("replied");
    const all = await adele.request("POST", `/api/archive/${archiveId}/reply`, {
      text: "Copying Carol.",
      replyAll: true,
    });
    expect((await settledAction(all.json.id as string)).outcome).toBe("replied_all");
    expect(
      posts(mark, /\/(reply|replyAll|sendMail)$/).map((e) => [e.path.split("/").pop(), e.status]),
    ).toEqual([
      ["reply", 202],
      ["replyAll", 202],
    ]);
    expect(posts(mark, /\/reply(All)?$/).every((e) => e.path.includes(view.immutableId))).toBe(true);
    const copies = kit.graph.messages(ADELE, "sentitems").filter((m) => m.subject === "RE: Offsite dates");
    expect(copies.map((m) => m.to.map((t) => t.address))).toEqual([
      ["priya@fabrikam.test"],
      ["priya@fabrikam.test"],
    ]);
    const texts = await Promise.all(
      copies.map(async (m) => (await simpleParser(kit.graph.mime(ADELE, m.immutableId))).text ?? ""),
    );
    expect(texts.some((t) => t.includes("The second week."))).toBe(true);
    expect(texts.some((t) => t.includes("Copying Carol."))).toBe(true);
    const replyAllCopy = await simpleParser(
      kit.graph.mime(ADELE, copies.find((_, i) => texts[i]?.includes("Copying Carol."))?.immutableId ?? ""),
    );
    expect(replyAllCopy.inReplyTo).toBe("<offsite-1@fabrikam.test>");
    expect(JSON.stringify(replyAllCopy.cc)).toContain("carol@fabrikam.test");
    // Each Sent Items copy is filed as the reply archived when it was asked for, not archived again.
    const filed = await Promise.all(
      copies.map(async (m) => (await processed(services, m.immutableId)).message_id),
    );
    expect(filed.sort()).toEqual([one.json.id, all.json.id].sort());
  });

  it("never logs the note or the reply text", () => {
    const text = logged.lines.join("");
    expect(text).not.toContain("Numbers for the board pack");
    expect(text).not.toContain("The second week.");
  });
});
