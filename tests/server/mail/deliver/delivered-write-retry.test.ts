import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { archivedByMessageId, waitForQueueIdle } from "../gateway/helpers";
import { startDeliverFixture, type DeliverFixture } from "./fixture";

// The next hop answered 250 and the receipt is journalled, but writing 'delivered' fails for a while
// (a dropped connection, a failover, a lock timeout). The message must not go out a second time.
const FAILED_WRITES = 3;
let f: DeliverFixture;

beforeAll(async () => {
  f = await startDeliverFixture({ users: ["dora@example.com"] });
  const db = f.db();
  // A sequence counts the failures: nextval is not undone by the rollback of the failing statement.
  await sql`CREATE SEQUENCE delivered_write_failures`.execute(db);
  await sql`CREATE FUNCTION fail_delivered_writes() RETURNS trigger AS $$
    BEGIN
      IF NEW.state = 'delivered' AND OLD.state = 'sending'
        AND nextval('delivered_write_failures') <= ${sql.lit(FAILED_WRITES)} THEN
        RAISE EXCEPTION 'simulated database blip';
      END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql`.execute(db);
  await sql`CREATE TRIGGER fail_delivered_writes BEFORE UPDATE ON deliveries
    FOR EACH ROW EXECUTE FUNCTION fail_delivered_writes()`.execute(db);
});

afterAll(async () => {
  await f?.stop();
});

describe("delivery worker: recording the next hop's 250 fails", () => {
  it("keeps trying to record it, and never sends the message again", async () => {
    const message = await f.send("friend@nice.test", "dora@example.com");
    const db = f.db();
    // Idle means 'delivered' was written at last; before the fix the row was claimed again after each failure.
    await waitForQueueIdle(db);
    const failures = await sql<{ n: string }>`SELECT last_value AS n FROM delivered_write_failures`.execute(
      db,
    );
    expect(Number(failures.rows[0]?.n)).toBeGreaterThan(FAILED_WRITES);
    expect(f.sink.withMessageId(message.messageId)).toHaveLength(1);
    const delivery = (await archivedByMessageId(db, message.messageId))?.deliveries[0];
    expect(delivery).toMatchObject({ state: "delivered", attempts: 1, possible_duplicate: false });
    expect(delivery?.last_response).toMatch(/^250/);
  });
});
