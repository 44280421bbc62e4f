import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KyselyPlugin } from "kysely";
import { createTestDatabase, type TestDatabase } from "../../../support/db";
import { eventually } from "../../../support/eventually";
import { testConfig, testServices } from "../../../support/services";
import { buildTenant, buildUser } from "../../../factories";
import { createMailPipeline } from "../../../../server/mail/pipeline/index";
import { createOfflineResolver } from "../../../../server/mail/scan/dns";
import type { MailPipeline, PipelineInput } from "../../../../server/mail/pipeline/process";
import { CommitTimedOut } from "../../../../server/mail/pipeline/group-commit";
import { rawMessage } from "../gateway/helpers";

// MAILWARD_INGEST_COMMITS_IN_FLIGHT reaches the gateway's group commit: by default one commit runs at a time, and what
// arrives meanwhile waits and goes in the next (larger batches, less PostgreSQL CPU per message); 2 lets a second start.
let database: TestDatabase;
let tenantId = "";

beforeAll(async () => {
  database = await createTestDatabase();
  tenantId = (await buildTenant(database.handle.db, { domains: ["inflight.test"] })).id;
  await buildUser(database.handle.db, { tenantId, email: "desk@inflight.test" });
});

afterAll(async () => {
  await database?.destroy();
});

/**
 * A database handle that counts the group commits started (each begins by reading the sender rules, built before it
 * waits for a connection: PGlite has one), and whose first commit write after `hold()` answers only at `release()`.
 */
function gatedWrites() {
  const writes = new Set<unknown>();
  let started = 0;
  let held: Promise<void> | null = null;
  let release = () => {};
  let holding = false;
  const plugin: KyselyPlugin = {
    transformQuery: ({ node, queryId }) => {
      const text = JSON.stringify(node);
      if (text.includes('"sender_rules"')) started += 1;
      if (text.includes("written_blobs AS (")) writes.add(queryId);
      return node;
    },
    transformResult: async ({ result, queryId }) => {
      if (holding && writes.has(queryId)) {
        holding = false;
        await held;
      }
      return result;
    },
  };
  return {
    db: database.handle.db.withPlugin(plugin),
    started: () => started,
    writes: () => writes.size,
    hold() {
      holding = true;
      held = new Promise<void>((resolve) => (release = resolve));
    },
    release: () => release(),
  };
}

const input = (subject: string): PipelineInput => ({
  raw: rawMessage({ from: "client@else.test", to: "desk@inflight.test", subject }).raw,
  source: "smtp",
  envelope: {
    mailFrom: "client@else.test",
    rcptTo: ["desk@inflight.test"],
    clientIp: "192.0.2.7",
    helo: "mx.else.test",
    sender: null,
  },
});

async function withPipeline(
  env: Record<string, string>,
  run: (
    gate: ReturnType<typeof gatedWrites>,
    process: (s: string) => Promise<unknown>,
    pipeline: MailPipeline,
  ) => Promise<void>,
) {
  const gate = gatedWrites();
  const config = testConfig(env);
  const services = testServices(gate.db, database.handle.engine, { config });
  const pipeline = createMailPipeline(services, { resolver: createOfflineResolver() });
  try {
    await pipeline.process(input("warm-up")); // loads the classifier and the directory before anything is timed
    await run(
      gate,
      async (subject) => {
        const outcome = await pipeline.process(input(subject));
        expect(outcome).toMatchObject({ kind: "accepted" });
        return outcome;
      },
      pipeline,
    );
  } finally {
    gate.release();
    await pipeline.close();
  }
}

describe("group commits in flight", () => {
  it("by default runs one commit at a time: the messages that arrive during it share the next one", async () => {
    await withPipeline({}, async (gate, process) => {
      const before = gate.started();
      const written = gate.writes();
      gate.hold();
      const first = process("first");
      await eventually(() => gate.writes() === written + 1, 10_000, "the first commit's write");
      const later = [process("second"), process("third")];
      // Both are analysed and waiting well within this; a second commit in flight would have started by now.
      await new Promise((r) => setTimeout(r, 1500));
      expect(gate.started()).toBe(before + 1);
      gate.release();
      await Promise.all([first, ...later]);
      expect(gate.started()).toBe(before + 2);
    });
  });

  it("starts a second commit while the first runs when MAILWARD_INGEST_COMMITS_IN_FLIGHT is 2", async () => {
    await withPipeline({ MAILWARD_INGEST_COMMITS_IN_FLIGHT: "2" }, async (gate, process) => {
      const before = gate.started();
      const written = gate.writes();
      gate.hold();
      const first = process("first");
      await eventually(() => gate.writes() === written + 1, 10_000, "the first commit's write");
      const second = process("second");
      await eventually(() => gate.started() === before + 2, 10_000, "a second commit beside the first");
      gate.release();
      await Promise.all([first, second]);
    });
  });

  it("fails a message whose commit is held past MAILWARD_INGEST_COMMIT_TIMEOUT_MS, and commits the next meanwhile", async () => {
    // Held in this process, after the database answered: a hang PostgreSQL cannot see or cancel (a network path that
    // drops packets looks the same from here), so only the gateway's own limit ends the sender's wait.
    await withPipeline({ MAILWARD_INGEST_COMMIT_TIMEOUT_MS: "1000" }, async (gate, process, pipeline) => {
      const written = gate.writes();
      gate.hold();
      const stuck = pipeline.process(input("stuck"));
      await eventually(() => gate.writes() === written + 1, 10_000, "the first commit's write");
      await expect(stuck).rejects.toBeInstanceOf(CommitTimedOut);
      // Its commit has not ended, yet the one place for a commit in flight is free again. (Not on PGlite: its one
      // connection is the held one, so there nothing commits until the hold ends, whatever the gateway does.)
      if (database.handle.engine === "postgres") {
        await process("next");
        expect(gate.writes()).toBe(written + 2);
      }
    });
  });

  it("refuses a value outside 1 to 8 with the setting's name", () => {
    expect(() => testConfig({ MAILWARD_INGEST_COMMITS_IN_FLIGHT: "0" })).toThrow(
      /MAILWARD_INGEST_COMMITS_IN_FLIGHT/,
    );
    expect(() => testConfig({ MAILWARD_INGEST_COMMITS_IN_FLIGHT: "9" })).toThrow(
      /MAILWARD_INGEST_COMMITS_IN_FLIGHT/,
    );
  });
});
