import client from "prom-client";
import { sql, type Kysely } from "kysely";
import type { Database } from "../../db/schema";
import type { Metrics } from "../../metrics";

const WAITING_STATES = ["queued", "sending", "deferred"] as const;

/**
 * Prometheus gauges of the outbound queue, read from the database at each scrape: how many deliveries wait per
 * state (all tenants) and how long the oldest has waited, so monitoring can alert on a next hop that stopped
 * taking mail before anyone asks where their mail is. A database that cannot answer leaves the last values.
 */
export function registerQueueGauges(metrics: Metrics, db: Kysely<Database>): void {
  new client.Gauge({
    name: "mailward_delivery_queue",
    help: "Deliveries waiting for the next hop, by state",
    labelNames: ["state"],
    registers: [metrics.registry],
    async collect() {
      try {
        const rows = await db
          .selectFrom("deliveries")
          .select((eb) => ["state", eb.fn.countAll<string>().as("n")])
          .where("state", "in", [...WAITING_STATES])
          .groupBy("state")
          .execute();
        for (const state of WAITING_STATES)
          this.set({ state }, Number(rows.find((r) => r.state === state)?.n ?? 0));
      } catch {
        /* keep the last values */
      }
    },
  });
  new client.Gauge({
    name: "mailward_delivery_queue_oldest_seconds",
    help: "How long the oldest waiting delivery has waited (0 when none waits)",
    registers: [metrics.registry],
    async collect() {
      try {
        const row = await db
          .selectFrom("deliveries")
          .select(sql<number | null>`extract(epoch from now() - min(created_at))`.as("age"))
          .where("state", "in", [...WAITING_STATES])
          .executeTakeFirst();
        this.set(Math.max(0, Number(row?.age ?? 0)));
      } catch {
        /* keep the last value */
      }
    },
  });
}
