import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archivedByMessageId, waitForQueueIdle } from "../gateway/helpers";
import { startDeliverFixture, type DeliverFixture } from "./fixture";

// Only a transfer whose final dot went out and whose reply was lost may have reached the recipient: that one is
// retried as a possible duplicate. A next hop that refuses, or drops the connection while the body is still going
// out, cannot have the message, and its retry is an ordinary one.
type Failure = "refuse-rcpt" | "refuse-data" | "drop-mid-body" | "drop-after-dot";

/** A next hop that fails its next transaction as told, then accepts (250 after the dot). */
function misbehavingHop() {
  let failNext: Failure | null = null;
  const accepted: string[] = [];
  const server = net.createServer((socket) => {
    socket.on("error", () => undefined);
    let inData = false;
    let body = "";
    let failure: Failure | null = null;
    socket.write("220 hop.test ESMTP\r\n");
    socket.on("data", (chunk: Buffer) => {
      if (inData) {
        body += chunk.toString("latin1");
        if (failure === "drop-mid-body" && body.length > 64 * 1024) {
          // Stop reading, so the rest of the body cannot sit in the socket buffers either, then hang up.
          socket.pause();
          setTimeout(() => socket.destroy(), 300);
          return;
        }
        if (!body.endsWith("\r\n.\r\n")) return;
        inData = false;
        if (failure === "drop-after-dot") return void socket.destroy();
        accepted.push(body);
        body = "";
        return void socket.write("250 2.0.0 queued\r\n");
      }
      for (const line of chunk.toString("latin1").split("\r\n").filter(Boolean)) {
        if (/^EHLO/i.test(line)) socket.write("250-hop.test\r\n250 8BITMIME\r\n");
        else if (/^MAIL/i.test(line)) {
          failure = failNext;
          failNext = null;
          socket.write("250 2.1.0 ok\r\n");
        } else if (/^RCPT/i.test(line) && failure === "refuse-rcpt") socket.write("451 4.2.1 try later\r\n");
        else if (/^DATA/i.test(line) && failure === "refuse-data") socket.write("451 4.3.0 try later\r\n");
        else if (/^DATA/i.test(line)) {
          inData = true;
          socket.write("354 go ahead\r\n");
        } else if (/^QUIT/i.test(line)) socket.end("221 bye\r\n");
        else socket.write("250 ok\r\n");
      }
    });
  });
  return {
    server,
    accepted,
    failNextWith(failure: Failure) {
      failNext = failure;
    },
  };
}

const hop = misbehavingHop();
let f: DeliverFixture;

beforeAll(async () => {
  await new Promise<void>((resolve) => hop.server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = hop.server.address() as net.AddressInfo;
  f = await startDeliverFixture({
    env: { MAILWARD_NEXT_HOP: `127.0.0.1:${port}` },
    users: ["lena@example.com"],
  });
});

afterAll(async () => {
  await f?.stop();
  await new Promise((resolve) => hop.server.close(resolve));
});

async function deliveredAfter(failure: Failure) {
  hop.failNextWith(failure);
  // For the drop in the middle, a body larger than both ends' socket buffers can hold (4 MB or so on loopback).
  const lines = failure === "drop-mid-body" ? 120_000 : 100;
  const body = `${"Figures for the quarter, line after line.".padEnd(76, ".")}\r\n`.repeat(lines);
  const message = await f.send("friend@nice.test", "lena@example.com", { body });
  await waitForQueueIdle(f.db());
  const delivery = (await archivedByMessageId(f.db(), message.messageId))?.deliveries[0];
  const copies = hop.accepted.filter((raw) => raw.includes(message.messageId));
  return { delivery, copies };
}

describe("delivery worker: what counts as a possible duplicate", () => {
  it.each(["refuse-rcpt", "refuse-data", "drop-mid-body"] as const)(
    "retries a transfer the next hop cannot have (%s) as an ordinary retry",
    async (failure) => {
      const { delivery, copies } = await deliveredAfter(failure);
      expect(copies).toHaveLength(1);
      expect(delivery).toMatchObject({ state: "delivered", attempts: 2, possible_duplicate: false });
    },
  );

  it("flags the retry of a transfer whose final dot went out but whose reply never came", async () => {
    const { delivery, copies } = await deliveredAfter("drop-after-dot");
    expect(copies).toHaveLength(1);
    expect(delivery).toMatchObject({ state: "delivered", attempts: 2, possible_duplicate: true });
  });
});
