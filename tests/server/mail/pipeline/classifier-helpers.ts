import type { Kysely } from "kysely";
import { afterAll, beforeAll } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../support/db";
import { testServices } from "../../../support/services";
import { readCorpus, type CorpusMessage } from "../../archive/corpus";
import type { Services } from "../../../../server/context";
import type { Database } from "../../../../server/db/schema";
import { commitClassifierChange } from "../../../../server/mail/pipeline/classifier-store";
import { ContentClassifier, messageTokens, type ClassLabel } from "../../../../server/mail/scan/index";

/** A test file's database and corpus messages for classifier tests (filled in by its beforeAll). */
export interface ClassifierWorld {
  services: Services;
  ham: CorpusMessage[];
  spam: CorpusMessage[];
  /** The tokens the gateway would learn from a corpus message. */
  tokensOf(message: CorpusMessage): string[];
  /** `replayClassifierSteps` on this world's database. */
  replay(tenantId: string, steps: ClassifierStep[]): Promise<ContentClassifier>;
}

/** Opens a database for the calling test file and reads twelve ham and twelve spam of the corpus, before its tests. */
export function useClassifierWorld(): ClassifierWorld {
  let database: TestDatabase | undefined;
  let services: Services | undefined;
  let ham: CorpusMessage[] = [];
  let spam: CorpusMessage[] = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    services = testServices(database.handle.db, database.handle.engine);
    ham = await readCorpus("spamassassin", "ham", 1, 12);
    spam = await readCorpus("spamassassin", "spam", 1, 12);
  });
  afterAll(async () => {
    await database?.destroy();
  });
  const ready = (): Services => {
    if (!services) throw new Error("the classifier world is used before its beforeAll ran");
    return services;
  };
  return {
    get services() {
      return ready();
    },
    get ham() {
      return ham;
    },
    get spam() {
      return spam;
    },
    tokensOf: (message) => messageTokens(message.parsed),
    replay: (tenantId, steps) => replayClassifierSteps(ready().db, tenantId, steps),
  };
}

/** One change to teach: learn or unlearn a message's tokens under a label. */
export type ClassifierStep = { op: "learn" | "unlearn"; tokens: string[]; label: ClassLabel };

/** Commits each step as its own change, and applies the same steps to an in-memory model (returned). */
export async function replayClassifierSteps(
  db: Kysely<Database>,
  tenantId: string,
  steps: ClassifierStep[],
): Promise<ContentClassifier> {
  const reference = new ContentClassifier();
  for (const step of steps) {
    reference[step.op](step.tokens, step.label);
    await db.transaction().execute((trx) =>
      commitClassifierChange(trx, tenantId, async (change) => {
        change[step.op](step.tokens, step.label);
        return true;
      }),
    );
  }
  return reference;
}

/**
 * The database, except that while the gate is closed a head read (`classifier_states`) is answered only when the
 * gate opens: the query has run and let go of its connection, and the refresh that made it is in flight.
 */
export class HeadReadGate {
  private gate: Promise<void> = Promise.resolve();
  private release: () => void = () => undefined;
  private held: () => void = () => undefined;
  private heldOnce: Promise<void> = Promise.resolve();

  constructor(private readonly db: Kysely<Database>) {}

  close(): void {
    this.gate = new Promise((resolve) => (this.release = resolve));
    this.heldOnce = new Promise((resolve) => (this.held = resolve));
  }

  open(): void {
    this.release();
  }

  /** Resolves once a head read's answer is being held. */
  holding(): Promise<void> {
    return this.heldOnce;
  }

  /** The gated database. */
  database(): Kysely<Database> {
    return new Proxy(this.db, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        // Kysely keeps its state in private fields, which only the instance itself can read.
        if (property !== "selectFrom") return value.bind(target);
        return (table: string) => {
          const builder: unknown = value.call(target, table);
          return table === "classifier_states" ? this.gated(builder) : builder;
        };
      },
    });
  }

  /** A query builder whose derived builders are gated too, and whose `executeTakeFirst` waits for the gate. */
  private gated<T>(builder: T): T {
    return new Proxy(builder as object, {
      get: (target, property) => {
        const value: unknown = Reflect.get(target, property);
        if (typeof value !== "function") return value;
        if (property === "executeTakeFirst")
          return async () => {
            const row: unknown = await value.call(target);
            this.held();
            await this.gate;
            return row;
          };
        return (...args: unknown[]) => {
          const next: unknown = value.apply(target, args);
          return next && typeof next === "object" && "executeTakeFirst" in next ? this.gated(next) : next;
        };
      },
    }) as T;
  }
}
