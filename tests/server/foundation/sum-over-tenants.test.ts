import { describe, expect, it } from "vitest";
import { createLogger } from "../../../server/logger";
import { sumOverTenants } from "../../../server/jobs/periodic";

// The per-tenant loop of the retention and classifier-pruning jobs: one organisation's failure must not stop the
// others' work, and is logged with its id; a stopped job ends its round early.
function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger("info", { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe("sumOverTenants", () => {
  it("adds up each tenant's work, logging a tenant whose work fails and going on with the next", async () => {
    const { logger, lines } = capturedLogger();
    const seen: string[] = [];
    const total = await sumOverTenants(
      logger,
      ["a", "b", "c"],
      () => false,
      "test work failed",
      async (id) => {
        seen.push(id);
        if (id === "b") throw new Error("b broke");
        return id === "a" ? 2 : 5;
      },
    );
    expect(total).toBe(7);
    expect(seen).toEqual(["a", "b", "c"]);
    expect(lines.map((l) => [l.msg, l.tenantId, (l.err as { message: string }).message])).toEqual([
      ["test work failed", "b", "b broke"],
    ]);
  });

  it("stops before the next tenant once the job is stopped", async () => {
    const { logger } = capturedLogger();
    let stopped = false;
    const seen: string[] = [];
    const total = await sumOverTenants(
      logger,
      ["a", "b"],
      () => stopped,
      "unused",
      async (id) => {
        seen.push(id);
        stopped = true;
        return 1;
      },
    );
    expect([total, seen]).toEqual([1, ["a"]]);
  });
});
