import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import type { Services } from "../../../server/context";
import { graphOf } from "../../../server/graph/runtime";
import { startTestServer, type TestServer } from "../../support/server";
import { eventually, startGraphTestKit, type GraphTestKit } from "./kit";
import {
  drain,
  graphModeWithMailbox,
  graphStartOptions,
  graphTestEnv,
  processed,
  switchMode,
  waitForSubscriptions,
} from "./harness";

let kit: GraphTestKit;
let server: TestServer;
let services: Services;
let adeleGraphId: string;
const ADELE = "adele@contoso.test";

const sweep = async () => {
  await graphOf(services)?.jobs()?.sweep.runOnce();
};

beforeAll(async () => {
  kit = await startGraphTestKit({ users: [{ userPrincipalName: ADELE, displayName: "Adele Vance" }] });
  adeleGraphId = kit.graph.user(ADELE).id;
  server = await startTestServer(graphTestEnv(kit), graphStartOptions(kit));
  services = server.mailward.services;
  await graphModeWithMailbox(kit, server, ADELE, "Adele Vance");
  await sweep();
});

afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

describe("graph mode again after a spell in gateway mode", () => {
  it(
    "does not scan again the mail the gateway delivered meanwhile, and watches new mail",
    { timeout: 90_000 },
    async () => {
      // Watched since two hours ago.
      await services.db
        .updateTable("graph_mailboxes")
        .set({ created_at: sql<Date>`now() - interval '2 hours'` })
        .where("graph_user_id", "=", adeleGraphId)
        .execute();
      await switchMode(server.baseUrl, "gateway");
      await sweep();
      await eventually(
        () => kit.graph.subscriptions().filter((s) => s.userId === adeleGraphId).length === 0,
        20_000,
        "subscriptions removed",
      );
      // Half an hour ago, in gateway mode, the gateway scanned this message and delivered it to the mailbox.
      const throughGateway = await kit.graph.deliver(
        ADELE,
        { from: "partner@fabrikam.test", to: [ADELE], subject: "Delivered by the gateway", text: "hi" },
        { notify: false, receivedDateTime: new Date(Date.now() - 30 * 60 * 1000) },
      );

      await switchMode(server.baseUrl, "graph");
      await sweep();
      await waitForSubscriptions(kit, services, adeleGraphId);
      const fresh = await kit.graph.deliver(ADELE, {
        from: "partner@fabrikam.test",
        to: [ADELE],
        subject: "After the switch back",
        text: "hello",
      });
      expect((await processed(services, fresh.immutableId)).verdict).toBe("delivered");
      await drain(services);

      const queued = await services.db
        .selectFrom("graph_notifications")
        .select("kind")
        .where("resource_id", "=", throughGateway.immutableId)
        .execute();
      expect(queued).toEqual([]);
      const ledger = await services.db
        .selectFrom("graph_messages")
        .select("state")
        .where("graph_message_id", "=", throughGateway.immutableId)
        .execute();
      expect(ledger).toEqual([]);

      // Read later, it is listed by the next delta round as changed: still not new mail.
      kit.graph.updateMessage(ADELE, throughGateway.immutableId, { isRead: true });
      const inbox = kit.graph
        .subscriptions()
        .find((s) => s.userId === adeleGraphId && s.folderId === kit.graph.user(ADELE).folderIds.inbox);
      if (!inbox) throw new Error("no inbox subscription");
      const later = await kit.graph.deliver(
        ADELE,
        { from: "partner@fabrikam.test", to: [ADELE], subject: "Later", text: "again" },
        { notify: false },
      );
      await kit.graph.sendLifecycleNotification(inbox.id, "missed");
      expect((await processed(services, later.immutableId)).verdict).toBe("delivered");
      await drain(services);
      const readLater = await services.db
        .selectFrom("graph_notifications")
        .select("kind")
        .where("resource_id", "=", throughGateway.immutableId)
        .execute();
      expect(readLater).toEqual([]);
    },
  );
});
