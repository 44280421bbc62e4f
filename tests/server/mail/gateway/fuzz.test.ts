import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { capturingLogger } from "../../../support/logger";
import { buildUser, tenantOfDomain } from "../../../factories";
import { CORPUS_DIR } from "../../archive/corpus";
import { newMessageId, smtpSend } from "./helpers";
import { mutate, onTheWire, seededRng, type Rng } from "./fuzz-mutations";
import { readRawMessage } from "../../../../server/archive/store";
import { importMail } from "../../../../server/commands/archive/import-mail";

// A seeded mutation fuzzer over real corpus mail (fuzz-mutations.ts): each mutant goes through the real gateway over
// SMTP and through `import`, and must get a verdict and an archived copy of its exact bytes, or a clean refusal.
// MAILWARD_FUZZ_SEED and MAILWARD_FUZZ_COUNT run another or a longer hunt; CI keeps the fixed seed and a modest count.
const SEED = Number(process.env.MAILWARD_FUZZ_SEED ?? 20261202);
const COUNT = Number(process.env.MAILWARD_FUZZ_COUNT ?? 60);
const TO = "fuzz@example.com";
const SETS: Array<[set: string, label: string, size: number]> = [
  ["spamassassin", "ham", 4149],
  ["spamassassin", "spam", 1897],
  ["phishing_pot", "phish", 714],
  ["linux-mips", "ham", 16477],
];

let server: TestServer;
let owner: Awaited<ReturnType<typeof buildUser>>;
const log = capturingLogger("warn");

/** A few dozen corpus messages under 64 KB, chosen by the seed. */
function corpusSample(rng: Rng, count: number): Array<{ file: string; raw: Buffer }> {
  const out: Array<{ file: string; raw: Buffer }> = [];
  while (out.length < count) {
    const [set, label, size] = SETS[out.length % SETS.length]!;
    const file = `${set}/${label}/${1 + rng.int(size)}.eml`;
    const raw = fs.readFileSync(path.join(CORPUS_DIR, file));
    if (raw.length < 64 * 1024) out.push({ file, raw });
  }
  return out;
}

/** The seed's mutants: each names its corpus file and the mutations applied, for a failure to be replayed. */
function mutants(seed: number, count: number): Array<{ label: string; raw: Buffer }> {
  const rng = seededRng(seed);
  const sample = corpusSample(rng, Math.min(40, count));
  return Array.from({ length: count }, (_, i) => {
    const { file, raw } = sample[i % sample.length]!;
    const mutant = mutate(raw, rng);
    return { label: `#${i} ${file} ${mutant.applied.join("+")}`, raw: mutant.raw };
  });
}

const MUTANTS = mutants(SEED, COUNT);

beforeAll(async () => {
  server = await startTestServer({ MAILWARD_SMTP_MESSAGES_PER_MINUTE_PER_IP: "0" }, { logger: log.logger });
  const db = server.mailward.services.db;
  owner = await buildUser(db, { tenantId: await tenantOfDomain(db), email: TO, roles: ["tenant_admin"] });
});

afterAll(async () => {
  await server?.stop();
});

/** What went wrong with one mutant over SMTP, or null when the gateway did what it must. */
async function checkOverSmtp(raw: Buffer): Promise<string | null> {
  const reply = await smtpSend(server.smtpPort, { from: "fuzz@nice.test", to: [TO] }, raw);
  if (!reply.ok) {
    // A refusal is fine when it is a final answer about the message; a 4xx (try again) or no answer is not.
    return reply.code >= 500 && reply.code < 600 ? null : `answered ${reply.code} ${reply.response}`;
  }
  if (reply.code !== 250) return `answered ${reply.code} ${reply.response}`;
  const id = /queued as ([0-9a-f-]{36})/.exec(reply.response)?.[1];
  if (!id) return `250 without an id: ${reply.response}`;
  const db = server.mailward.services.db;
  const message = await db.selectFrom("messages").selectAll().where("id", "=", id).executeTakeFirst();
  if (!message) return `250 for ${id}, which is not in the archive`;
  const stored = await readRawMessage(db, message.tenant_id, message.sha256);
  if (!stored?.equals(onTheWire(raw))) return `archived bytes differ (${stored?.length} stored)`;
  const record = message.assessment as { decisions?: Array<{ action: string }> } | null;
  const action = record?.decisions?.[0]?.action;
  if (record?.decisions?.length !== 1 || !["deliver", "hold"].includes(action ?? ""))
    return `verdict on record: ${JSON.stringify(record?.decisions)}`;
  return null;
}

describe("gateway and import under seeded mutations of corpus mail", () => {
  it(
    `answers each of ${COUNT} mutants with 250, archive and verdict, or a final refusal (seed ${SEED})`,
    async () => {
      // Three clients at once, as an MX sees them: a bad message shares group commits with others (group-commit.ts).
      const failures: string[] = [];
      let next = 0;
      const client = async () => {
        for (let mutant = MUTANTS[next++]; mutant; mutant = MUTANTS[next++]) {
          const problem = await checkOverSmtp(mutant.raw);
          if (problem) failures.push(`${mutant.label}: ${problem}`);
        }
      };
      await Promise.all([client(), client(), client()]);
      failures.sort();
      const errors = log.lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
      expect(failures).toEqual([]);
      expect(errors).toEqual([]);
      // Still serving after all that.
      const raw = Buffer.from(
        `From: a@nice.test\r\nTo: ${TO}\r\nMessage-ID: ${newMessageId()}\r\n\r\nstill here\r\n`,
      );
      expect(await checkOverSmtp(raw)).toBeNull();
    },
    Math.max(60_000, COUNT * 1000),
  );

  it(
    "imports the same mutants from .eml files and from an mbox without failing one",
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mw-fuzz-"));
      try {
        const emls = path.join(dir, "eml");
        fs.mkdirSync(emls);
        MUTANTS.forEach((m, i) => fs.writeFileSync(path.join(emls, `${i}.eml`), m.raw));
        // mboxrd: a line starting ">*From " gains one '>'; each message ends with a blank line before the next.
        const mbox = path.join(dir, "fuzz.mbox");
        const escaped = MUTANTS.map((m) =>
          Buffer.from(m.raw.toString("latin1").replace(/^(>*From )/gm, ">$1"), "latin1"),
        );
        fs.writeFileSync(
          mbox,
          Buffer.concat(
            escaped.flatMap((raw) => [
              Buffer.from("From fuzz@nice.test Mon Jan  1 00:00:00 2024\n"),
              raw,
              Buffer.from("\n\n"),
            ]),
          ),
        );
        const fromEml = await importMail(server.mailward.services, owner.actor, emls, TO);
        expect(fromEml.failed).toBe(0);
        expect(fromEml.imported + fromEml.duplicates).toBe(MUTANTS.length);
        const fromMbox = await importMail(server.mailward.services, owner.actor, mbox, TO);
        expect(fromMbox.failed).toBe(0);
        const errors = log.lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
        expect(errors).toEqual([]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
    Math.max(60_000, COUNT * 1000),
  );
});
