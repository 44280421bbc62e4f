import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NextHopConnection } from "../../../../server/mail/deliver/relay";
import { archivedByMessageId } from "../gateway/helpers";
import { startDeliverFixture, type DeliverFixture } from "./fixture";

// A next hop that never finishes a reply but keeps sending a byte now and then: each byte resets the socket's
// idle timeout, so only a deadline on the whole attempt frees the connection and retries the message.
const trickler = net.createServer((socket) => {
  socket.on("error", () => undefined);
  let timer: NodeJS.Timeout | null = null;
  socket.on("close", () => timer && clearInterval(timer));
  socket.write("220 slow.test ESMTP\r\n");
  socket.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString("latin1").split("\r\n").filter(Boolean)) {
      if (/^EHLO/i.test(line)) socket.write("250-slow.test\r\n250 8BITMIME\r\n");
      else if (/^RCPT/i.test(line)) {
        // A multi-line reply that never reaches its last line.
        timer = setInterval(() => socket.write("250-still thinking\r\n"), 100);
      } else socket.write("250 ok\r\n");
    }
  });
});
let f: DeliverFixture;

beforeAll(async () => {
  await new Promise<void>((resolve) => trickler.listen(0, "127.0.0.1", () => resolve()));
  const { port } = trickler.address() as net.AddressInfo;
  f = await startDeliverFixture({
    env: { MAILWARD_NEXT_HOP: `127.0.0.1:${port}` },
    delivery: { attemptTimeoutMs: 1_000, retryBaseSeconds: 60, retryMaxSeconds: 60 },
    users: ["mona@example.com"],
  });
});

afterAll(async () => {
  await f?.stop();
  await new Promise((resolve) => trickler.close(resolve));
});

describe("delivery worker: a next hop that trickles bytes", () => {
  it("gives the attempt up at its deadline as a temporary failure, to retry later", async () => {
    const message = await f.send("friend@nice.test", "mona@example.com");
    await expect
      .poll(async () => (await archivedByMessageId(f.db(), message.messageId))?.deliveries[0]?.state, {
        timeout: 10_000,
      })
      .toBe("deferred");
    const delivery = (await archivedByMessageId(f.db(), message.messageId))?.deliveries[0];
    expect(delivery).toMatchObject({ attempts: 1, possible_duplicate: false });
    expect(delivery?.last_error).toMatch(/deadline/);
  });
});

describe("a next hop that greets, then trickles its EHLO reply", () => {
  it("is given up at the attempt deadline too, which covers setting the session up", async () => {
    // The deadline started after the session was set up: nodemailer bounds the greeting, but an EHLO reply that
    // never ends only meets the idle timeout (10 minutes), which each line restarts.
    const slowEhlo = net.createServer((socket) => {
      socket.on("error", () => undefined);
      let timer: NodeJS.Timeout | null = null;
      socket.on("close", () => timer && clearInterval(timer));
      socket.write("220 slow.test ESMTP\r\n");
      socket.once("data", () => {
        timer = setInterval(() => socket.write("250-still thinking\r\n"), 100);
      });
    });
    await new Promise<void>((resolve) => slowEhlo.listen(0, "127.0.0.1", () => resolve()));
    try {
      const { port } = slowEhlo.address() as net.AddressInfo;
      const connection = new NextHopConnection(
        { host: "127.0.0.1", port },
        "test.local",
        undefined,
        undefined,
        1_000,
      );
      const result = await connection.send(
        { from: "a@nice.test", to: "b@example.com" },
        Buffer.from("Subject: x\r\n\r\nhello\r\n"),
        async () => true,
      );
      expect(result).toMatchObject({ kind: "temporary", handedOff: false, ambiguous: false });
      expect(result.kind === "temporary" && result.error).toMatch(/deadline/);
      connection.close();
    } finally {
      await new Promise((resolve) => slowEhlo.close(resolve));
    }
  }, 15_000);
});
