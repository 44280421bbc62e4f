import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archivedByMessageId, waitForQueueIdle } from "../gateway/helpers";
import { startDeliverFixture, type DeliverFixture } from "./fixture";

// The next hop answered 250 but the local receipts journal cannot be written (a full disk, a read-only or
// misconfigured data folder). The database still has to say 'delivered': otherwise the lease runs out and the
// message goes out again, and again, for as long as the journal stays unwritable.
let f: DeliverFixture;
let folder: string;

beforeAll(async () => {
  folder = fs.mkdtempSync(path.join(os.tmpdir(), "mw-receipts-"));
  const receiptsFile = path.join(folder, "delivery-receipts.log");
  // A folder where the journal file should be: opening it for appending fails, as on a full or read-only disk.
  fs.mkdirSync(receiptsFile);
  f = await startDeliverFixture({ delivery: { receiptsFile }, users: ["dora@example.com"] });
});

afterAll(async () => {
  await f?.stop();
  fs.rmSync(folder, { recursive: true, force: true });
});

describe("delivery worker: the receipts journal cannot be written", () => {
  it("records the delivery in the database all the same, and sends the message once", async () => {
    const message = await f.send("friend@nice.test", "dora@example.com");
    const db = f.db();
    await waitForQueueIdle(db, 5_000);
    // Several leases long: a row left 'sending' would have been claimed and sent again meanwhile.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(f.sink.withMessageId(message.messageId)).toHaveLength(1);
    const delivery = (await archivedByMessageId(db, message.messageId))?.deliveries[0];
    expect(delivery).toMatchObject({ state: "delivered", attempts: 1, possible_duplicate: false });
  });
});
