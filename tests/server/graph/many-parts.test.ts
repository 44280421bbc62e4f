import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../../server/context";
import { startTestServer, type TestServer } from "../../support/server";
import { startGraphTestKit, type GraphTestKit } from "./kit";
import { manyPartsWithProgram } from "../../support/many-parts";
import { graphModeWithMailbox, graphStartOptions, graphTestEnv, processed } from "./harness";

// Graph mode parses what lands in a mailbox with the archive's parser. mailparser (through mailsplit) refuses a
// message of more than 1,000 MIME parts by default; the scan must still see what is in one.
const ADELE = "adele@contoso.test";
let kit: GraphTestKit;
let server: TestServer;
let services: Services;

beforeAll(async () => {
  kit = await startGraphTestKit({ users: [{ userPrincipalName: ADELE, displayName: "Adele Vance" }] });
  server = await startTestServer(graphTestEnv(kit), graphStartOptions(kit));
  services = server.mailward.services;
  await graphModeWithMailbox(kit, server, ADELE, "Adele Vance");
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

describe("Graph intake of a message of more than 1,000 MIME parts", () => {
  it("scans it in full: the program in it is held", { timeout: 120_000 }, async () => {
    const delivered = await kit.graph.deliver(
      ADELE,
      manyPartsWithProgram({
        from: "billing@fabrikam-invoices.test",
        to: ADELE,
        messageId: "<many-parts-1@fabrikam-invoices.test>",
        count: 1_200,
        filename: "invoice.exe",
      }),
    );
    const ledger = await processed(services, delivered.immutableId);
    expect(ledger.verdict).toBe("held");
    const message = await services.db
      .selectFrom("messages")
      .select(["message_id", "assessment"])
      .where("id", "=", ledger.message_id ?? "")
      .executeTakeFirstOrThrow();
    expect(message.message_id).toBe("<many-parts-1@fabrikam-invoices.test>");
    const assessment = message.assessment as { signals?: Array<{ id: string }> };
    expect(assessment.signals?.map((s) => s.id)).toContain("attachment.executable");
  });
});
