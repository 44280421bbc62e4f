import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { buildUser, tenantOfDomain } from "../../../factories";
import { archivedByMessageId, standardDns } from "../gateway/helpers";
import { sendAccepted, QUICK_DELIVERY } from "./fixture";
import { DeliveryWorker } from "../../../../server/mail/deliver/worker";
import { deliveryTuning } from "../../../../server/mail/deliver/index";

// A next hop that takes the whole message and then never answers the final dot: a stopping gateway waited for it
// as long as the attempt's deadline (30 minutes) allows. Now it waits a grace period, then ends the attempt as a
// temporary failure: retried after the restart, and flagged as possibly delivered, since the dot went out.
let dots = 0;
const silentAfterDot = net.createServer((socket) => {
  socket.on("error", () => undefined);
  let inData = false;
  let data = "";
  socket.write("220 silent.test ESMTP\r\n");
  socket.on("data", (chunk: Buffer) => {
    if (inData) {
      data += chunk.toString("latin1");
      if (data.includes("\r\n.\r\n")) dots += 1; // and no reply, ever
      return;
    }
    for (const line of chunk.toString("latin1").split("\r\n").filter(Boolean)) {
      if (/^EHLO/i.test(line)) socket.write("250-silent.test\r\n250 8BITMIME\r\n");
      else if (/^DATA/i.test(line)) {
        inData = true;
        socket.write("354 go ahead\r\n");
      } else socket.write("250 ok\r\n");
    }
  });
});
let server: TestServer;

beforeAll(async () => {
  await new Promise<void>((resolve) => silentAfterDot.listen(0, "127.0.0.1", () => resolve()));
  // No next hop for the server's own worker: the test runs one of its own against the silent hop.
  server = await startTestServer({}, { dnsResolver: standardDns() });
  await buildUser(server.mailward.services.db, {
    tenantId: await tenantOfDomain(server.mailward.services.db),
    email: "nina@example.com",
  });
});

afterAll(async () => {
  await server?.stop();
  await new Promise((resolve) => silentAfterDot.close(resolve));
});

describe("delivery worker: a stop while the next hop is silent after the final dot", () => {
  it("ends the attempt after the grace period as a temporary failure, flagged as possibly delivered", async () => {
    const services = server.mailward.services;
    const message = await sendAccepted(server.smtpPort, "friend@nice.test", "nina@example.com");
    const { port } = silentAfterDot.address() as net.AddressInfo;
    const worker = new DeliveryWorker(
      services,
      { host: "127.0.0.1", port },
      deliveryTuning(services, { ...QUICK_DELIVERY, stopGraceMs: 300 }),
    );
    worker.start();
    worker.notify();
    await expect.poll(() => dots, { timeout: 10_000 }).toBe(1);
    await worker.stop();
    const delivery = (await archivedByMessageId(services.db, message.messageId))?.deliveries[0];
    expect(delivery).toMatchObject({ state: "deferred", attempts: 1, possible_duplicate: true });
    expect(delivery?.last_error).toMatch(/stopped during the attempt/);
  }, 20_000);
});
