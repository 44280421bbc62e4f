import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startMailward, type Mailward } from "../../../../server/runtime";
import { trainFromLabelledMail } from "../../../../server/commands/classifier/train-labelled";
import { pipelineFor } from "../../../../server/mail/pipeline/index";
import { systemActor } from "../../../../server/auth/actor";
import { freshDatabaseTarget } from "../../../support/db";
import { testConfig } from "../../../support/services";
import { tempDir } from "../../../support/temp";
import { buildRawMessage, buildTenant } from "../../../factories";
import { eventually } from "../../graph/kit";

// A large model takes seconds to read (on PGlite, on the event loop): a start loads every tenant's model in the
// background, so the first message after it does not wait.
let mailward: Mailward | null = null;
let drop: (() => Promise<void>) | null = null;
afterAll(async () => {
  await mailward?.stop();
  await drop?.();
});

function folderOf(topic: string, count: number): string {
  const dir = tempDir("mw-preload-");
  for (let i = 0; i < count; i++)
    fs.writeFileSync(
      path.join(dir, `${i}.eml`),
      buildRawMessage({ subject: `${topic} ${i}`, body: `${topic} ${i}` }),
    );
  return dir;
}

describe("classifiers at start", () => {
  it("are loaded for every tenant that learnt something, before any mail arrives", async () => {
    const database = await freshDatabaseTarget();
    drop = database.drop;
    const config = testConfig({
      MAILWARD_ADMIN_EMAIL: "admin@example.com",
      MAILWARD_ADMIN_PASSWORD: "correct horse battery",
    });
    mailward = await startMailward(config, { database: database.target, adminSocket: false });
    const { services } = mailward;
    const trained = await buildTenant(services.db, { domains: ["preload-trained.test"] });
    const untrained = await buildTenant(services.db, { domains: ["preload-untrained.test"] });
    const actor = systemActor(trained.id, "cli");
    await trainFromLabelledMail(services, actor, folderOf("quarterly planning", 3), "ham");
    await trainFromLabelledMail(services, actor, folderOf("casino jackpot", 2), "spam");
    await mailward.stop();

    mailward = await startMailward(config, { database: database.target, adminSocket: false });
    const registry = pipelineFor(mailward.services).classifiers;
    const copy = await eventually(() => registry.peek(trained.id), 10_000, "the trained tenant's model");
    expect(copy.messageCounts).toEqual({ ham: 3, spam: 2, phish: 0 });
    // Nothing to read for a tenant that never learnt anything: its first message makes its empty copy.
    expect(registry.peek(untrained.id)).toBeUndefined();
    expect(await registry.preloadAll()).toBe(0);
  });
});
