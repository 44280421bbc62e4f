import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import type { Services } from "../../../server/context";
import { graphOf } from "../../../server/graph/runtime";
import { startTestServer, type TestServer } from "../../support/server";
import { startGraphTestKit, type GraphTestKit } from "./kit";
import { graphModeWithMailbox, graphStartOptions, graphTestEnv, processed } from "./harness";

let kit: GraphTestKit;
let server: TestServer;
let services: Services;
let adeleGraphId: string;
const ADELE = "adele@contoso.test";
const HOUR_MS = 60 * 60 * 1000;

const subscriptionOf = (folder: "inbox" | "sentitems") =>
  kit.graph
    .subscriptions()
    .find((s) => s.userId === adeleGraphId && s.folderId === kit.graph.user(ADELE).folderIds[folder]);

beforeAll(async () => {
  kit = await startGraphTestKit({ users: [{ userPrincipalName: ADELE, displayName: "Adele Vance" }] });
  adeleGraphId = kit.graph.user(ADELE).id;
  server = await startTestServer(graphTestEnv(kit), graphStartOptions(kit));
  services = server.mailward.services;
  await graphModeWithMailbox(kit, server, ADELE, "Adele Vance");
  // The first sweep (enrolment, subscriptions, first delta rounds) is over: a sweep run now queues behind it.
  await graphOf(services)?.jobs()?.sweep.runOnce();
});

afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

describe("delta state lost for both watched folders (410 SyncStateNotFound)", () => {
  it(
    "resynchronises each folder from its own last sync, so Sent Items mail of the gap is archived",
    { timeout: 90_000 },
    async () => {
      const mailbox = await services.db
        .selectFrom("graph_mailboxes")
        .select(["id", "delta_links"])
        .where("graph_user_id", "=", adeleGraphId)
        .executeTakeFirstOrThrow();
      const folderIds = kit.graph.user(ADELE).folderIds;
      const lost = (folder: string | undefined) =>
        `https://graph.microsoft.com/v1.0/users/${adeleGraphId}/mailFolders/${folder ?? ""}/messages/delta?$deltatoken=expired-state`;
      // Enrolled three hours ago, last caught up two hours ago; since then Graph dropped both delta states.
      await services.db
        .updateTable("graph_mailboxes")
        .set({
          created_at: sql<Date>`now() - interval '3 hours'`,
          synced_at: sql<Date>`now() - interval '2 hours'`,
          delta_links: JSON.stringify({ inbox: lost(folderIds.inbox), sentitems: lost(folderIds.sentitems) }),
          folder_synced_at: JSON.stringify({
            inbox: new Date(Date.now() - 2 * HOUR_MS).toISOString(),
            sentitems: new Date(Date.now() - 2 * HOUR_MS).toISOString(),
          }),
        })
        .where("id", "=", mailbox.id)
        .execute();
      // An hour ago, while no notification came through: one message received, one sent.
      const anHourAgo = new Date(Date.now() - HOUR_MS);
      const received = await kit.graph.deliver(
        ADELE,
        { from: "colleague@fabrikam.test", to: [ADELE], subject: "In the gap", text: "hi" },
        { notify: false, receivedDateTime: anHourAgo },
      );
      const sent = await kit.graph.deliver(
        ADELE,
        { from: ADELE, to: ["partner@fabrikam.test"], subject: "Sent in the gap", text: "hello" },
        { folder: "sentitems", notify: false, receivedDateTime: anHourAgo },
      );

      await kit.graph.sendLifecycleNotification(subscriptionOf("inbox")?.id ?? "", "missed");
      expect((await processed(services, received.immutableId)).verdict).toBe("delivered");
      await kit.graph.sendLifecycleNotification(subscriptionOf("sentitems")?.id ?? "", "missed");
      expect((await processed(services, sent.immutableId, 15_000)).verdict).toBe("archived");
      expect(
        kit.graph.requestLog.filter((e) => e.path.endsWith("/messages/delta") && e.status === 410),
      ).toHaveLength(2);
    },
  );
});
