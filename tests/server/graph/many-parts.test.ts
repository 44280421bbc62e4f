import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Services } from "../../../server/context";
import { startTestServer, type TestServer } from "../../support/server";
import { startGraphTestKit, type GraphTestKit } from "./kit";
import {
  graphStartOptions,
  graphTestEnv,
  mailboxUser,
  processed,
  switchMode,
  waitForSubscriptions,
} from "./harness";

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
  await mailboxUser(services, ADELE, "Adele Vance");
  await switchMode(server.baseUrl, "graph");
  await waitForSubscriptions(kit, services, kit.graph.user(ADELE).id);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await kit?.close();
});

/** A multipart message of `count` small text attachments and a Windows program as the last part. */
function manyPartsWithProgram(count: number): string {
  const lines = [
    "From: billing@fabrikam-invoices.test",
    `To: ${ADELE}`,
    "Subject: the files you asked for",
    "Message-ID: <many-parts-1@fabrikam-invoices.test>",
    "Date: Mon, 04 May 2026 10:00:00 +0000",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
  ];
  for (let i = 0; i < count; i++) {
    lines.push(
      "--b",
      `Content-Type: text/plain; name="f${i}.txt"`,
      "Content-Disposition: attachment",
      "",
      `part ${i}`,
    );
  }
  lines.push(
    "--b",
    'Content-Type: application/octet-stream; name="invoice.exe"',
    "Content-Disposition: attachment",
    "Content-Transfer-Encoding: base64",
    "",
    Buffer.from("MZ\x90\x00\x03\x00\x00\x00", "latin1").toString("base64"),
    "--b--",
    "",
  );
  return lines.join("\r\n");
}

describe("Graph intake of a message of more than 1,000 MIME parts", () => {
  it("scans it in full: the program in it is held", { timeout: 120_000 }, async () => {
    const delivered = await kit.graph.deliver(ADELE, manyPartsWithProgram(1_200));
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
