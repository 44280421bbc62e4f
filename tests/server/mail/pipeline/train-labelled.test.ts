import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../support/db";
import { testConfig, testServices } from "../../../support/services";
import { auditDetailsOf } from "../../../support/audit";
import { tempDir } from "../../../support/temp";
import { buildTenant, buildUser } from "../../../factories";
import { readCorpus, type CorpusMessage } from "../../archive/corpus";
import { runCliCommand } from "../../../../server/cli/commands";
import { trainFromLabelledMail } from "../../../../server/commands/classifier/train-labelled";
import {
  classifierRegistryFor,
  learnFromFeedback,
  MailPipeline,
} from "../../../../server/mail/pipeline/index";
import { commitClassifierChange } from "../../../../server/mail/pipeline/classifier-store";
import { createOfflineResolver, messageTokens } from "../../../../server/mail/scan/index";
import { parseMessage } from "../../../../server/archive/parse";
import { sha256Of } from "../../../../server/archive/store";
import { ApiError } from "../../../../server/http/errors";
import type { Services } from "../../../../server/context";

// `npm run mailward -- train <mbox|folder> --as ham|spam|phish`: an administrator teaches a new tenant's classifier
// labelled mail, so content counts from the first message instead of after weeks of reports.
let database: TestDatabase;
let services: Services;
let admin: Awaited<ReturnType<typeof buildUser>>;
let ham: CorpusMessage[];
let spam: CorpusMessage[];

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
  const tenant = await buildTenant(services.db, { domains: ["train.test"] });
  admin = await buildUser(services.db, {
    tenantId: tenant.id,
    email: "tia@train.test",
    roles: ["tenant_admin"],
  });
  // Odd-numbered messages train, even-numbered ones are held out (the corpus's fixed split).
  ham = await readCorpus("spamassassin", "ham", 1, 60);
  spam = await readCorpus("spamassassin", "spam", 1, 60);
});

afterAll(async () => {
  await database?.destroy();
});

const trainHalf = (messages: CorpusMessage[]) => messages.filter((_, i) => i % 2 === 0);
const heldOut = (messages: CorpusMessage[]) => messages.filter((_, i) => i % 2 === 1);

function emlFolder(messages: CorpusMessage[]): string {
  const dir = tempDir("mw-train-");
  messages.forEach((m, i) => fs.writeFileSync(path.join(dir, `${i + 1}.eml`), m.raw));
  return dir;
}

function mbox(messages: CorpusMessage[]): string {
  const file = path.join(tempDir("mw-train-"), "junk.mbox");
  const escaped = messages.map((m) =>
    Buffer.concat([
      Buffer.from("From MAILER-DAEMON Thu Jan  1 00:00:00 2024\n"),
      Buffer.from(m.raw.toString("latin1").replace(/^(>*From )/gm, ">$1"), "latin1"),
      Buffer.from("\n"),
    ]),
  );
  fs.writeFileSync(file, Buffer.concat(escaped));
  return file;
}

async function cli(...args: string[]): Promise<{ code: number; output: string }> {
  const lines: string[] = [];
  const code = await runCliCommand(services, args, { print: (l) => lines.push(l) }, process.cwd());
  return { code, output: lines.join("\n") };
}

/** The content score the pipeline records for each message, as a new message to the admin. */
async function contentScores(messages: CorpusMessage[]): Promise<number[]> {
  const pipeline = new MailPipeline(services, { resolver: createOfflineResolver() });
  const scores: number[] = [];
  for (const m of messages) {
    const outcome = await pipeline.process({
      raw: Buffer.concat([Buffer.from(`X-Probe: ${scores.length}-${Date.now()}\r\n`), m.raw]),
      source: "import",
      envelope: { mailFrom: "", rcptTo: [admin.email], clientIp: "", helo: "", sender: null },
      archiveOnly: {
        folder: "inbox",
        direction: "inbound",
        owner: { tenantId: admin.tenantId, userId: admin.id, address: admin.email },
      },
    });
    if (outcome.kind !== "accepted") throw new Error("not accepted");
    const row = await services.db
      .selectFrom("messages")
      .select("assessment")
      .where("id", "=", outcome.messageIds[0]!)
      .executeTakeFirstOrThrow();
    scores.push((row.assessment as { contentScore: number }).contentScore);
  }
  return scores;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

async function storedCounts(tenantId = admin.tenantId) {
  const row = await services.db
    .selectFrom("classifier_states")
    .select(["ham", "spam", "phish", "revision"])
    .where("tenant_id", "=", tenantId)
    .executeTakeFirstOrThrow();
  return { messages: { ham: row.ham, spam: row.spam, phish: row.phish }, revision: row.revision };
}

/** A lesson as an earlier version left it: the message learnt under `label` and a labelled-mail row under `sha256`. */
async function plantCorpusLesson(
  tenantId: string,
  raw: Buffer,
  sha256: string,
  label: "ham" | "spam" | "phish",
) {
  const tokens = messageTokens((await parseMessage(raw))!);
  await services.db.transaction().execute(async (trx) => {
    await commitClassifierChange(trx, tenantId, async (change) => {
      change.learn(tokens, label);
      return true;
    });
    await trx.insertInto("classifier_corpus").values({ tenant_id: tenantId, sha256, label }).execute();
  });
}

describe("training the classifier on labelled mail", () => {
  it("teaches a new tenant's classifier from a folder and an mbox, and the pipeline's content scores follow", async () => {
    const before = await contentScores([...heldOut(ham).slice(0, 3), ...heldOut(spam).slice(0, 3)]);
    // An untrained classifier has no opinion.
    expect(new Set(before)).toEqual(new Set([0.5]));

    expect(await cli("train", emlFolder(trainHalf(ham)), "--as", "ham")).toEqual({
      code: 0,
      output: "Learnt 30 message(s) as ham (0 moved from another label, 0 already learnt so, 0 unreadable)",
    });
    expect(await trainFromLabelledMail(services, admin.actor, mbox(trainHalf(spam)), "spam")).toEqual({
      learned: 30,
      relabelled: 0,
      unchanged: 0,
      failed: 0,
    });
    expect((await storedCounts()).messages).toEqual({ ham: 30, spam: 30, phish: 0 });
    expect(classifierRegistryFor(services).peek(admin.tenantId)?.messageCounts).toEqual({
      ham: 30,
      spam: 30,
      phish: 0,
    });

    const hamScores = await contentScores(heldOut(ham));
    const spamScores = await contentScores(heldOut(spam));
    expect(mean(spamScores) - mean(hamScores)).toBeGreaterThan(0.4);
    expect(hamScores.filter((s) => s > 0.9)).toHaveLength(0);

    // A new process loads the trained model from the database.
    const restarted = testServices(database.handle.db, database.handle.engine);
    expect((await classifierRegistryFor(restarted).get(admin.tenantId)).messageCounts).toEqual({
      ham: 30,
      spam: 30,
      phish: 0,
    });
    expect(await auditDetailsOf(services.db, admin.tenantId, "classifier.trained")).toEqual([
      { source: expect.stringMatching(/^mw-train-/), label: "ham", learned: 30, relabelled: 0 },
      { source: "junk.mbox", label: "spam", learned: 30, relabelled: 0 },
    ]);
  });

  it("learns each message once: the same mail again changes nothing, another label moves it", async () => {
    const counts = await storedCounts();
    const audits = (await auditDetailsOf(services.db, admin.tenantId, "classifier.trained")).length;
    const repeated = trainHalf(ham).slice(0, 5);
    // The same bytes twice in one source are one message too.
    expect(
      await trainFromLabelledMail(services, admin.actor, emlFolder([...repeated, repeated[0]!]), "ham"),
    ).toEqual({ learned: 0, relabelled: 0, unchanged: 6, failed: 0 });
    expect(await storedCounts()).toEqual(counts);
    expect(await auditDetailsOf(services.db, admin.tenantId, "classifier.trained")).toHaveLength(audits);

    // Two of the junk mbox's messages were phish: an mbox of them, as the junk one held them, moves them.
    const misfiled = trainHalf(spam).slice(0, 2);
    expect(await trainFromLabelledMail(services, admin.actor, mbox(misfiled), "phish")).toEqual({
      learned: 0,
      relabelled: 2,
      unchanged: 0,
      failed: 0,
    });
    expect((await storedCounts()).messages).toEqual({ ham: 30, spam: 28, phish: 2 });
    const labels = await services.db
      .selectFrom("classifier_corpus")
      .select("label")
      .where("tenant_id", "=", admin.tenantId)
      .execute();
    expect(labels.filter((l) => l.label === "phish")).toHaveLength(2);
    expect(labels).toHaveLength(60);
  });

  it("keeps tenants apart", async () => {
    const other = await buildTenant(services.db, { domains: ["other-train.test"] });
    const otherAdmin = await buildUser(services.db, {
      tenantId: other.id,
      email: "oli@other-train.test",
      roles: ["tenant_admin"],
    });
    // Mail the first tenant learnt as ham is new to the second.
    expect(
      await trainFromLabelledMail(services, otherAdmin.actor, emlFolder(trainHalf(ham).slice(0, 3)), "spam"),
    ).toMatchObject({ learned: 3, relabelled: 0 });
    expect((await storedCounts()).messages).toEqual({ ham: 30, spam: 28, phish: 2 });
  });

  it("counts a message once across agents' reports and labelled mail, whichever came first", async () => {
    const tenant = await buildTenant(services.db, { domains: ["once-train.test"] });
    const owner = await buildUser(services.db, {
      tenantId: tenant.id,
      email: "ola@once-train.test",
      roles: ["tenant_admin"],
    });
    const message = heldOut(ham)[0]!;
    const archived = await new MailPipeline(services, { resolver: createOfflineResolver() }).process({
      raw: message.raw,
      source: "import",
      envelope: { mailFrom: "", rcptTo: [owner.email], clientIp: "", helo: "", sender: null },
      archiveOnly: {
        folder: "inbox",
        direction: "inbound",
        owner: { tenantId: tenant.id, userId: owner.id, address: owner.email },
      },
    });
    if (archived.kind !== "accepted") throw new Error("not archived");
    const messageId = archived.messageIds[0]!;
    const state = async () => {
      // Each token of the one message is counted at most once, in one class.
      const tokens = await services.db
        .selectFrom("classifier_tokens")
        .select((eb) => [
          eb.fn.max("ham").as("ham"),
          eb.fn.max("spam").as("spam"),
          eb.fn.max("phish").as("phish"),
        ])
        .where("tenant_id", "=", tenant.id)
        .executeTakeFirstOrThrow();
      const feedback = await services.db
        .selectFrom("classifier_training")
        .select("label")
        .where("tenant_id", "=", tenant.id)
        .execute();
      const corpus = await services.db
        .selectFrom("classifier_corpus")
        .select("label")
        .where("tenant_id", "=", tenant.id)
        .execute();
      return {
        messages: (await storedCounts(tenant.id)).messages,
        mostPerToken: { ham: Number(tokens.ham), spam: Number(tokens.spam), phish: Number(tokens.phish) },
        feedback: feedback.map((r) => r.label),
        corpus: corpus.map((r) => r.label),
      };
    };
    const folder = emlFolder([message]);

    // An agent reports it; the same bytes in a folder of spam are already learnt so.
    expect(await learnFromFeedback(services, tenant.id, messageId, "spam")).toEqual({
      learned: true,
      previousLabel: null,
    });
    expect(await trainFromLabelledMail(services, owner.actor, folder, "spam")).toEqual({
      learned: 0,
      relabelled: 0,
      unchanged: 1,
      failed: 0,
    });
    expect(await state()).toEqual({
      messages: { ham: 0, spam: 1, phish: 0 },
      mostPerToken: { ham: 0, spam: 1, phish: 0 },
      feedback: ["spam"],
      corpus: [],
    });

    // Labelled as ham, it moves, and the labelled mail now holds the lesson.
    expect(await trainFromLabelledMail(services, owner.actor, folder, "ham")).toMatchObject({
      relabelled: 1,
    });
    expect(await state()).toEqual({
      messages: { ham: 1, spam: 0, phish: 0 },
      mostPerToken: { ham: 1, spam: 0, phish: 0 },
      feedback: [],
      corpus: ["ham"],
    });

    // A release says what the labelled mail said: nothing to learn. A report as phish moves it back to feedback.
    expect(await learnFromFeedback(services, tenant.id, messageId, "ham")).toEqual({
      learned: false,
      previousLabel: "ham",
    });
    expect(await learnFromFeedback(services, tenant.id, messageId, "phish")).toEqual({
      learned: true,
      previousLabel: "ham",
    });
    expect(await state()).toEqual({
      messages: { ham: 0, spam: 0, phish: 1 },
      mostPerToken: { ham: 0, spam: 0, phish: 1 },
      feedback: ["phish"],
      corpus: [],
    });

    // Before this check, the same bytes could hold a lesson in both tables, counted twice: the next label counts it once.
    await plantCorpusLesson(tenant.id, message.raw, sha256Of(message.raw), "phish");
    expect((await state()).messages).toEqual({ ham: 0, spam: 0, phish: 2 });
    expect(await trainFromLabelledMail(services, owner.actor, folder, "phish")).toMatchObject({
      relabelled: 1,
    });
    expect(await state()).toEqual({
      messages: { ham: 0, spam: 0, phish: 1 },
      mostPerToken: { ham: 0, spam: 0, phish: 1 },
      feedback: [],
      corpus: ["phish"],
    });
  });

  it("recognises mail it learnt from an mbox before the reader dropped each message's blank line", async () => {
    const tenant = await buildTenant(services.db, { domains: ["earlier-train.test"] });
    const owner = await buildUser(services.db, {
      tenantId: tenant.id,
      email: "eve@earlier-train.test",
      roles: ["tenant_admin"],
    });
    const message = heldOut(spam)[1]!;
    // What a reader before 2026-11-30 learnt: the message with the mbox's blank line, under that SHA-256.
    const asReadThen = Buffer.concat([message.raw, Buffer.from("\n")]);
    await plantCorpusLesson(tenant.id, message.raw, sha256Of(asReadThen), "spam");
    const lessons = async () => {
      const corpus = await services.db
        .selectFrom("classifier_corpus")
        .select(["sha256", "label"])
        .where("tenant_id", "=", tenant.id)
        .execute();
      return { messages: (await storedCounts(tenant.id)).messages, corpus };
    };

    expect(await trainFromLabelledMail(services, owner.actor, mbox([message]), "spam")).toMatchObject({
      learned: 0,
      unchanged: 1,
    });
    expect(await lessons()).toEqual({
      messages: { ham: 0, spam: 1, phish: 0 },
      corpus: [{ sha256: sha256Of(asReadThen), label: "spam" }],
    });
    // Moved to another label, the lesson is kept under the message's own SHA-256.
    expect(await trainFromLabelledMail(services, owner.actor, mbox([message]), "phish")).toMatchObject({
      relabelled: 1,
    });
    expect(await lessons()).toEqual({
      messages: { ham: 0, spam: 0, phish: 1 },
      corpus: [{ sha256: sha256Of(message.raw), label: "phish" }],
    });
    // Its .eml is now the same message.
    expect(await trainFromLabelledMail(services, owner.actor, emlFolder([message]), "phish")).toMatchObject({
      learned: 0,
      unchanged: 1,
    });
  });

  it("counts a message over the gateway's size limit as failed and learns the others, as import does", async () => {
    const small = trainHalf(ham)[0]!;
    const limit = small.raw.length + 1_000;
    const limited: Services = { ...services, config: testConfig({ MAILWARD_SMTP_MAX_SIZE: String(limit) }) };
    const large = Buffer.concat([small.raw, Buffer.from(`\r\n${"x".repeat(2_000)}\r\n`)]);
    const owner = await buildUser(services.db, {
      tenantId: (await buildTenant(services.db, { domains: ["limit.test"] })).id,
      email: "lee@limit.test",
      roles: ["tenant_admin"],
    });
    const folder = tempDir("mw-train-");
    fs.writeFileSync(path.join(folder, "1.eml"), small.raw);
    fs.writeFileSync(path.join(folder, "2.eml"), large);
    expect(await trainFromLabelledMail(limited, owner.actor, folder, "ham")).toEqual({
      learned: 1,
      relabelled: 0,
      unchanged: 0,
      failed: 1,
    });
    const file = mbox([small, { ...small, raw: large }]);
    expect(await trainFromLabelledMail(limited, owner.actor, file, "spam")).toMatchObject({
      relabelled: 1,
      failed: 1,
    });
  });

  it("refuses what it cannot read with a clear error, and learns nothing from it", async () => {
    const counts = await storedCounts();
    const missing = path.join(tempDir("mw-train-"), "nothing-here");
    await expect(trainFromLabelledMail(services, admin.actor, missing, "spam")).rejects.toMatchObject({
      id: "not_found",
      message: `${missing} does not exist.`,
    });
    const notMbox = path.join(tempDir("mw-train-"), "notes.txt");
    fs.writeFileSync(notMbox, "just some notes\n");
    const refused = await trainFromLabelledMail(services, admin.actor, notMbox, "spam").catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({
      id: "invalid_request",
      message: expect.stringMatching(/neither a folder/),
    });
    expect(await cli("train", notMbox, "--as", "spam")).toMatchObject({
      code: 1,
      output: expect.stringMatching(/^Error \(invalid_request\)/),
    });

    expect(await cli("train", emlFolder(trainHalf(spam)), "--as", "junk")).toEqual({
      code: 2,
      output: "Usage: train <mbox|folder> --as <ham|spam|phish>",
    });
    expect(await cli("train", "--as", "spam")).toMatchObject({ code: 2 });
    expect(await storedCounts()).toEqual(counts);
    // An empty mailbox is not an error: there is nothing to learn.
    const empty = path.join(tempDir("mw-train-"), "empty.mbox");
    fs.writeFileSync(empty, "");
    expect(await trainFromLabelledMail(services, admin.actor, empty, "ham")).toEqual({
      learned: 0,
      relabelled: 0,
      unchanged: 0,
      failed: 0,
    });
  });
});
