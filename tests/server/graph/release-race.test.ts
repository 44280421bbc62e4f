import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../../server/context";
import { startTestServer, type TestServer } from "../../support/server";
import { ApiClient } from "../../support/http";
import { eventually, startGraphTestKit, type GraphTestKit } from "./kit";
import { graphModeWithMailbox, graphStartOptions, graphTestEnv, processed, settled } from "./harness";

let kit: GraphTestKit;
let server: TestServer;
let services: Services;
let adele: ApiClient;
const ADELE = "adele@contoso.test";

const hiddenFolder = () => kit.graph.folders(ADELE).find((f) => f.displayName === "Mailward Quarantine");
const folderOf = (immutableId: string) =>
  kit.graph.messages(ADELE).find((m) => m.immutableId === immutableId)?.folderId;

beforeAll(async () => {
  kit = await startGraphTestKit({ users: [{ userPrincipalName: ADELE, displayName: "Adele Vance" }] });
  server = await startTestServer(graphTestEnv(kit), graphStartOptions(kit));
  services = server.mailward.services;
  const user = await graphModeWithMailbox(kit, server, ADELE, "Adele Vance");
  await eventually(() => hiddenFolder(), 20_000, "the hidden quarantine folder");
  adele = await user.client(server.baseUrl);
});

afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

describe("a quarantine move retried after the person released the message", () => {
  it("leaves the released message in the inbox", { timeout: 60_000 }, async () => {
    const block = await adele.request("POST", "/api/senders", { pattern: "pest@spam.test", kind: "block" });
    expect(block.status).toBe(201);
    // Graph fails the first move to the hidden folder (an error no retry inside the request fixes).
    kit.graph.faults.add({
      status: 500,
      count: 1,
      match: { method: "POST", path: /\/move$/, mailbox: ADELE },
    });
    const message = await kit.graph.deliver(ADELE, {
      from: "pest@spam.test",
      to: [ADELE],
      subject: "Offer you cannot refuse",
      text: "Deals!",
    });
    const ledger = await processed(services, message.immutableId);
    expect(ledger.verdict).toBe("held");
    const quarantine = () =>
      services.db
        .selectFrom("graph_actions")
        .select(["state", "attempts", "outcome"])
        .where("held_item_id", "=", ledger.held_item_id)
        .where("kind", "=", "quarantine")
        .executeTakeFirstOrThrow();
    await eventually(
      async () => {
        const row = await quarantine();
        return row.state === "pending" && row.attempts === 1;
      },
      20_000,
      "the failed quarantine move waiting for its retry",
    );
    expect(folderOf(message.immutableId)).toBe(kit.graph.user(ADELE).folderIds.inbox);

    // The person releases it before the retry: it is where it belongs already.
    const release = await adele.request("POST", `/api/held/${ledger.held_item_id}/release`, {});
    expect(release.status).toBe(200);
    await settled(kit, services);

    expect(await quarantine()).toMatchObject({ state: "done", outcome: "released" });
    expect(folderOf(message.immutableId)).toBe(kit.graph.user(ADELE).folderIds.inbox);
    const moves = kit.graph.requestLog.filter(
      (e) =>
        e.method === "POST" && e.path.endsWith(`/messages/${message.immutableId}/move`) && e.status === 201,
    );
    expect(moves).toHaveLength(0);
  });
});
