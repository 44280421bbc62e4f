import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../../server/context";
import { startTestServer, type TestServer } from "../../support/server";
import { startSmtpSink, type SmtpSink } from "../../support/smtp-sink";
import type { ApiClient } from "../../support/http";
import { eventually, startGraphTestKit, type GraphTestKit } from "./kit";
import { graphModeWithMailbox, graphStartOptions, graphTestEnv, processed } from "./harness";

// Graph takes /users/{id | userPrincipalName}/... only. Nestor signs in as nwilke@contoso.onmicrosoft.com and
// receives mail as nestor@contoso.test (a tenant that kept its onmicrosoft.com sign-in names); Mailward knows him by
// that address, so every mailbox call must name the Graph user id stored at enrolment, never the address.
const NESTOR_UPN = "nwilke@contoso.onmicrosoft.com";
const NESTOR = "nestor@contoso.test";

let kit: GraphTestKit;
let sink: SmtpSink;
let server: TestServer;
let services: Services;
let nestor: ApiClient;
let nestorId: string;

const hiddenFolder = () => kit.graph.folders(NESTOR_UPN).find((f) => f.displayName === "Mailward Quarantine");
const folderOf = (immutableId: string) =>
  kit.graph.messages(NESTOR_UPN).find((m) => m.immutableId === immutableId)?.folderId;

beforeAll(async () => {
  sink = await startSmtpSink();
  kit = await startGraphTestKit({
    users: [{ userPrincipalName: NESTOR_UPN, mail: NESTOR, displayName: "Nestor Wilke" }],
    smtp: { host: "127.0.0.1", port: sink.port },
  });
  nestorId = kit.graph.user(NESTOR_UPN).id;
  server = await startTestServer(graphTestEnv(kit), graphStartOptions(kit));
  services = server.mailward.services;
  const user = await graphModeWithMailbox(kit, server, NESTOR, "Nestor Wilke", NESTOR_UPN);
  await eventually(() => hiddenFolder(), 20_000, "the hidden quarantine folder");
  nestor = await user.client(server.baseUrl);
});

afterAll(async () => {
  await server?.stop();
  await kit?.close();
  await sink?.close();
});

describe("Graph mode for a mailbox whose address is not its sign-in name", () => {
  it("enrols the mailbox under its Graph user id and subscribes by that id", async () => {
    const row = await services.db
      .selectFrom("graph_mailboxes")
      .select(["graph_user_id", "address"])
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ graph_user_id: nestorId, address: NESTOR });
    expect(kit.graph.subscriptions().every((s) => s.resource.startsWith(`users/${nestorId}/`))).toBe(true);
  });

  it("holds mail from a blocked sender in the hidden folder and releases it back to the inbox", async () => {
    const block = await nestor.request("POST", "/api/senders", {
      pattern: "nuisance@spam.test",
      kind: "block",
    });
    expect(block.status).toBe(201);
    const held = await kit.graph.deliver(NESTOR_UPN, {
      from: "nuisance@spam.test",
      to: [NESTOR],
      subject: "Weekly deals",
      text: "Deals!",
    });
    const ledger = await processed(services, held.immutableId);
    expect(ledger.verdict).toBe("held");
    await eventually(() => folderOf(held.immutableId) === hiddenFolder()?.id, 20_000, "the quarantine move");
    const release = await nestor.request("POST", `/api/held/${ledger.held_item_id}/release`, {});
    expect(release.status).toBe(200);
    const inbox = kit.graph.user(NESTOR_UPN).folderIds.inbox;
    await eventually(() => folderOf(held.immutableId) === inbox, 20_000, "the move back");
  });

  it("forwards from the archive as Nestor through Graph", async () => {
    const original = await kit.graph.deliver(NESTOR_UPN, {
      from: "priya@fabrikam.test",
      to: [NESTOR],
      subject: "Quarterly numbers",
      text: "The figures, as discussed.",
    });
    const ledger = await processed(services, original.immutableId);
    const res = await nestor.request("POST", `/api/archive/${ledger.message_id ?? ""}/forward`, {
      to: ["boss@outside.test"],
      note: "FYI",
    });
    expect(res.status).toBe(202);
    await sink.waitFor((messages) => messages.some((m) => m.rcptTo.includes("boss@outside.test")), 20_000);
  });

  it("named the mailbox by its Graph user id on every mailbox path called above, $batch included", () => {
    const mailboxPaths = kit.sent
      .map((request) => new URL(request.url).pathname)
      .filter((path) => /\/users\/[^/]+\/./.test(path));
    expect(mailboxPaths.length).toBeGreaterThan(0);
    expect(mailboxPaths.filter((path) => !path.startsWith(`/v1.0/users/${nestorId}/`))).toEqual([]);
    // $batch sub-requests reach the fake's log on their own.
    const namedAtGraph = kit.graph.requestLog.flatMap(
      (entry) => /^\/users\/([^/]+)\/./.exec(entry.path)?.slice(1) ?? [],
    );
    expect(namedAtGraph.length).toBeGreaterThan(mailboxPaths.length);
    expect(new Set(namedAtGraph)).toEqual(new Set([nestorId]));
  });
});
