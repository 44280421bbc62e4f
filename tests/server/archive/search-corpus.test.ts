import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { buildTenant, buildUser } from "../../factories";
import { fileMessage } from "../../../server/mail/ingest";
import { searchArchive } from "../../../server/archive/search";
import type { ArchiveScope } from "../../../server/archive/scope";
import {
  hasWord,
  messageHasPhrase,
  messageHasWord,
  readCorpus,
  searchableFields,
  type CorpusMessage,
} from "./corpus";

// Real mail through the real write path; every expected set is computed here from mailparser's
// reading of the files with plain string matching, never copied from the product.
let database: TestDatabase;
let scope: ArchiveScope;
const byId = new Map<string, CorpusMessage>();

async function idsFor(q: string): Promise<Set<string>> {
  const found = new Set<string>();
  let cursor: string | undefined;
  for (let i = 0; i < 50; i++) {
    const page = await searchArchive(database.handle.db, scope, {
      q,
      limit: 100,
      sort: "date",
      ...(cursor ? { cursor } : {}),
    });
    for (const row of page.rows) found.add(row.id);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return found;
}

function expected(predicate: (m: CorpusMessage) => boolean): Set<string> {
  return new Set([...byId].filter(([, m]) => predicate(m)).map(([id]) => id));
}

function sorted(set: Set<string>): string[] {
  return [...set].map((id) => byId.get(id)?.file ?? id).sort();
}

async function expectSame(q: string, predicate: (m: CorpusMessage) => boolean, minimum = 2) {
  const want = expected(predicate);
  expect(
    want.size,
    `the corpus slice should hold at least ${minimum} matches for ${q}`,
  ).toBeGreaterThanOrEqual(minimum);
  expect(want.size, `${q} should not match everything`).toBeLessThan(byId.size);
  expect(sorted(await idsFor(q))).toEqual(sorted(want));
}

beforeAll(async () => {
  database = await createTestDatabase();
  const tenant = await buildTenant(database.handle.db);
  const agent = await buildUser(database.handle.db, { tenantId: tenant.id });
  scope = { tenantId: tenant.id, kind: "users", userIds: [agent.id] };
  const messages = [
    ...(await readCorpus("spamassassin", "ham", 901, 300)),
    ...(await readCorpus("linux-mips", "ham", 4901, 200)),
  ];
  for (const message of messages) {
    const filed = await fileMessage(
      database.handle.db,
      tenant.id,
      message.raw,
      {
        mailFrom: "",
        rcptTo: [agent.email],
        direction: "inbound",
        source: "import",
        receivedAt: new Date("2026-01-01T00:00:00Z"),
      },
      [{ userId: agent.id, folder: "inbox" }],
    );
    byId.set(filed.id, message);
  }
}, 300_000);

afterAll(async () => {
  await database?.destroy();
});

describe("archive search on real mail (spamassassin ham 901–1200, linux-mips 4901–5100)", () => {
  it("finds exactly the messages containing a word", async () => {
    await expectSame("glibc", (m) => messageHasWord(m.parsed, "glibc"));
    await expectSame("IRIX", (m) => messageHasWord(m.parsed, "irix"));
  });

  it("finds exactly the messages containing a quoted phrase", async () => {
    await expectSame('"mailing list"', (m) => messageHasPhrase(m.parsed, ["mailing", "list"]));
  });

  it("from: matches the sender's address or name, as a substring", async () => {
    const inFrom = (m: CorpusMessage, v: string) => {
      const f = searchableFields(m.parsed);
      return f.fromAddress.includes(v) || f.fromName.toLowerCase().includes(v);
    };
    await expectSame("from:ralf", (m) => inFrom(m, "ralf"));
    await expectSame("from:egwn.net", (m) => inFrom(m, "egwn.net"));
  });

  it("after:/before: select a date range (after inclusive, before exclusive, UTC days)", async () => {
    const from = Date.parse("2000-11-01T00:00:00Z");
    const to = Date.parse("2002-03-01T00:00:00Z");
    await expectSame("after:2000-11-01 before:2002-03-01", (m) => {
      const date = searchableFields(m.parsed).date ?? new Date("2026-01-01T00:00:00Z");
      return date.getTime() >= from && date.getTime() < to;
    });
  });

  it("attachment: matches a file name substring, has:attachment any attachment", async () => {
    const names = (m: CorpusMessage) =>
      searchableFields(m.parsed).attachmentNames.map((n) => n.toLowerCase());
    await expectSame("attachment:signature", (m) => names(m).some((n) => n.includes("signature")));
    await expectSame("attachment:.VCF OR attachment:exmh", (m) =>
      names(m).some((n) => n.includes(".vcf") || n.includes("exmh")),
    );
    await expectSame("has:attachment", (m) => (m.parsed.attachments ?? []).length > 0);
  });

  it("-word excludes, OR unions, and they combine", async () => {
    await expectSame(
      "redhat -spamassassin",
      (m) => messageHasWord(m.parsed, "redhat") && !messageHasWord(m.parsed, "spamassassin"),
    );
    await expectSame(
      "linux -from:sgi.com",
      (m) =>
        messageHasWord(m.parsed, "linux") &&
        !searchableFields(m.parsed).fromAddress.includes("sgi.com") &&
        !searchableFields(m.parsed).fromName.toLowerCase().includes("sgi.com"),
    );
    await expectSame(
      "glibc OR binutils",
      (m) => messageHasWord(m.parsed, "glibc") || messageHasWord(m.parsed, "binutils"),
    );
    await expectSame(
      '(gcc OR python) -"mailing list"',
      (m) =>
        (messageHasWord(m.parsed, "gcc") || messageHasWord(m.parsed, "python")) &&
        !messageHasPhrase(m.parsed, ["mailing", "list"]),
    );
  });

  it("subject: only looks at the subject", async () => {
    await expectSame("subject:patch", (m) => hasWord(searchableFields(m.parsed).subject, "patch"));
  });
});
