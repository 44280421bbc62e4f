import fs from "node:fs";
import path from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMailward } from "../../../server/runtime";
import { BACKUP_SLOT, backUpEmbeddedDatabase, BackupError } from "../../../server/db/online-backup";
import { openDatabase } from "../../../server/db/connection";
import { readRawMessage } from "../../../server/archive/store";
import { startTestServer, type TestServer } from "../../support/server";
import { dataFolderConfig } from "../../support/services";
import { runCli } from "../../support/cli";
import { tempDir } from "../../support/temp";
import { buildUser, tenantOfDomain } from "../../factories";
import { newMessageId, smtpSend } from "../mail/gateway/helpers";

// `npm run mailward -- backup <folder>`: PostgreSQL's online backup of the embedded database, while mail flows; the
// copy is proved by opening it as a data folder again. On a PostgreSQL server the command refuses (pg_basebackup's job).
const embedded = !process.env.DATABASE_URL;
const TO = "backup-owner@example.com";
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
  await buildUser(server.mailward.services.db, {
    tenantId: await tenantOfDomain(server.mailward.services.db),
    email: TO,
  });
});
afterAll(async () => {
  await server?.stop();
});

/** A small message with its own Message-ID, sent over SMTP; the archived message's id on a 250, else null. */
async function sendOne(label: string): Promise<{ id: string; messageId: string } | null> {
  const messageId = newMessageId();
  const raw = Buffer.from(
    `From: sender@outside.test\r\nTo: ${TO}\r\nSubject: ${label}\r\nMessage-ID: ${messageId}\r\n\r\n` +
      `${label}: ${"a line of mail that is archived before the backup starts\r\n".repeat(40)}`,
  );
  const reply = await smtpSend(server.smtpPort, { from: "sender@outside.test", to: [TO] }, raw);
  const id = /queued as ([0-9a-f-]{36})/.exec(reply.response)?.[1];
  return reply.code === 250 && id ? { id, messageId } : null;
}

/**
 * Past the backup's start segment, then a checkpoint, twice: the second checkpoint removes or recycles the segments
 * before the first one's redo point, the backup's start among them, unless something holds them.
 */
async function churnWalWithCheckpoints(): Promise<void> {
  const db = server.mailward.services.db;
  for (let round = 0; round < 2; round++) {
    await sql`SELECT pg_switch_wal()`.execute(db);
    await sql`CREATE TEMP TABLE IF NOT EXISTS churn (x text)`.execute(db);
    await sql`INSERT INTO churn SELECT repeat(md5(g::text), 64) FROM generate_series(1, 20000) g`.execute(db);
    await sql`SELECT pg_switch_wal()`.execute(db);
    await sql`CHECKPOINT`.execute(db);
  }
}

describe.runIf(embedded)("an online backup of the embedded database", () => {
  it("is made while mail flows, holds every message accepted before it began, and opens as a data folder", async () => {
    const services = server.mailward.services;
    const before: string[] = [];
    for (let i = 0; i < 20; i++) before.push((await sendOne(`before ${i}`))!.id);
    // Two clients keep sending while the backup copies.
    let sending = true;
    const during: string[] = [];
    const client = async (n: number) => {
      for (let i = 0; sending; i++) {
        const sent = await sendOne(`during ${n}.${i}`);
        if (sent) during.push(sent.id);
      }
    };
    const clients = [client(1), client(2)];
    const folder = path.join(tempDir("mw-backup-"), "copy");
    const answer = await runCli(services, ["backup", folder]);
    sending = false;
    await Promise.all(clients);
    expect(answer.code).toBe(0);
    expect(answer.lines.join("\n")).toMatch(
      /^Backed up the database to .*copy: \d+ files, [\d.]+ MB \(WAL [0-9A-F]+\/[0-9A-F]+ to [0-9A-F]+\/[0-9A-F]+\)/,
    );
    expect(during.length).toBeGreaterThan(0);
    expect(fs.statSync(folder).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(path.join(folder, "backup_label"), "utf8")).toMatch(/^START WAL LOCATION: /m);
    expect(fs.existsSync(path.join(folder, "postmaster.pid"))).toBe(false);

    const audited = await services.db
      .selectFrom("audit_events")
      .select(["action", "actor_label", "details"])
      .where("action", "=", "database.backed_up")
      .execute();
    expect(audited).toEqual([
      expect.objectContaining({ actor_label: "system:cli", details: expect.objectContaining({ folder }) }),
    ]);

    // Restore as the README says: the copy in place of a data folder's `pglite`, then start Mailward on it.
    const restoredDir = tempDir("mw-restored-");
    fs.cpSync(folder, path.join(restoredDir, "pglite"), { recursive: true });
    const restored = await startMailward(dataFolderConfig(restoredDir), { adminSocket: false });
    try {
      const db = restored.services.db;
      const rows = await db
        .selectFrom("messages")
        .select(["id", "tenant_id", "sha256"])
        .where("id", "in", before)
        .execute();
      expect(rows.map((r) => r.id).sort()).toEqual([...before].sort());
      const raw = await readRawMessage(db, rows[0]!.tenant_id, rows[0]!.sha256);
      expect(raw?.toString("latin1")).toContain("archived before the backup starts");
      // Consistent, not merely present: every archived message of the copy has its mailbox link.
      const { rows: unlinked } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM messages m
        WHERE NOT EXISTS (SELECT 1 FROM mailbox_links l WHERE l.message_id = m.id)`.execute(db);
      expect(unlinked[0]!.n).toBe(0);
      // The backup's own audit event was written after it, so the copy does not hold it.
      const copiedAudit = await db
        .selectFrom("audit_events")
        .select("action")
        .where("action", "=", "database.backed_up")
        .execute();
      expect(copiedAudit).toEqual([]);
    } finally {
      await restored.stop();
    }
  }, 120_000);

  it("refuses a folder that is not empty, and leaves it as it was", async () => {
    const folder = tempDir("mw-backup-full-");
    fs.writeFileSync(path.join(folder, "keep.txt"), "mine");
    const answer = await runCli(server.mailward.services, ["backup", folder]);
    expect(answer.code).toBe(1);
    expect(answer.lines.join("\n")).toMatch(/^Error \(backup_folder_not_empty\): .*name a new folder/);
    expect(fs.readdirSync(folder)).toEqual(["keep.txt"]);
  });

  it("refuses a folder inside the database's own", async () => {
    const services = server.mailward.services;
    const inside = path.join(services.pgliteFolder!, "base", "copy");
    const answer = await runCli(services, ["backup", inside]);
    expect(answer.lines.join("\n")).toMatch(
      /^Error \(backup_folder_not_empty\): .*inside the database's own folder/,
    );
    expect(fs.existsSync(inside)).toBe(false);
  });

  it("refuses a second backup while one runs, and the first completes", async () => {
    const services = server.mailward.services;
    const parent = tempDir("mw-backup-twice-");
    const second = path.join(parent, "second");
    let secondOutcome: unknown = null;
    const first = await backUpEmbeddedDatabase(
      services.db,
      services.pgliteFolder!,
      path.join(parent, "first"),
      "t",
      {
        afterCopy: async () => {
          secondOutcome = await backUpEmbeddedDatabase(
            services.db,
            services.pgliteFolder!,
            second,
            "t",
          ).catch((err: unknown) => err);
        },
      },
    );
    expect(secondOutcome).toBeInstanceOf(BackupError);
    expect((secondOutcome as BackupError).reason).toBe("already_running");
    expect(fs.existsSync(second)).toBe(false);
    expect(fs.existsSync(path.join(first.folder, "backup_label"))).toBe(true);
  });

  it("keeps the WAL it needs through checkpoints during its copy, and the copy opens", async () => {
    const services = server.mailward.services;
    const folder = path.join(tempDir("mw-backup-checkpoints-"), "copy");
    const backup = await backUpEmbeddedDatabase(services.db, services.pgliteFolder!, folder, "t", {
      afterCopy: () => churnWalWithCheckpoints(),
    });
    expect(backup.walSegments).toBeGreaterThanOrEqual(4);
    const { rows: slots } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM pg_replication_slots`.execute(services.db);
    expect(slots[0]!.n).toBe(0);
    const restoredDir = tempDir("mw-restored-");
    fs.cpSync(folder, path.join(restoredDir, "pglite"), { recursive: true });
    const copy = await openDatabase({ kind: "pglite", dataDir: restoredDir });
    try {
      const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages`.execute(copy.db);
      expect(rows[0]!.n).toBeGreaterThan(0);
    } finally {
      await copy.close();
    }
  }, 60_000);

  it("fails whole when a checkpoint recycled the WAL it needs (no slot held it), and keeps nothing", async () => {
    const services = server.mailward.services;
    const folder = path.join(tempDir("mw-backup-recycled-"), "copy");
    const failed = await backUpEmbeddedDatabase(services.db, services.pgliteFolder!, folder, "t", {
      afterCopy: async () => {
        await sql`SELECT pg_drop_replication_slot(${BACKUP_SLOT})`.execute(services.db);
        await churnWalWithCheckpoints();
      },
    }).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(BackupError);
    expect((failed as BackupError).reason).toBe("wal_recycled");
    expect(fs.existsSync(folder)).toBe(false);
    // The next backup starts (and needs no checkpoints to have stopped).
    const next = await backUpEmbeddedDatabase(
      services.db,
      services.pgliteFolder!,
      path.join(tempDir("mw-backup-next-"), "copy"),
      "t",
    );
    expect(next.walSegments).toBeGreaterThan(0);
  }, 60_000);

  it("that fails while copying ends the backup in the database too, and keeps nothing of it", async () => {
    const services = server.mailward.services;
    const folder = path.join(tempDir("mw-backup-broken-"), "copy");
    const failed = await backUpEmbeddedDatabase(services.db, services.pgliteFolder!, folder, "t", {
      afterCopy: () => Promise.reject(new Error("No space left on device")),
    }).catch((err: unknown) => err);
    expect((failed as Error).message).toBe("No space left on device");
    expect(fs.existsSync(folder)).toBe(false);
    // Left in progress, the database would refuse the next one ("a backup is already in progress in this session").
    const answer = await runCli(services, ["backup", path.join(tempDir("mw-backup-after-"), "copy")]);
    expect(answer.lines.join("\n")).toMatch(/^Backed up the database/);
  });

  it("into an empty folder that exists keeps the folder when it fails", async () => {
    const services = server.mailward.services;
    const folder = tempDir("mw-backup-given-");
    const failed = await backUpEmbeddedDatabase(services.db, services.pgliteFolder!, folder, "t", {
      afterCopy: () => Promise.reject(new Error("interrupted")),
    }).catch((err: unknown) => err);
    expect((failed as Error).message).toBe("interrupted");
    expect(fs.readdirSync(folder)).toEqual([]);
  });
});

describe.runIf(!embedded)("a backup on a PostgreSQL server", () => {
  it("is refused, naming PostgreSQL's own tools", async () => {
    const folder = path.join(tempDir("mw-backup-pg-"), "copy");
    const answer = await runCli(server.mailward.services, ["backup", folder]);
    expect(answer.code).toBe(1);
    expect(answer.lines.join("\n")).toMatch(/^Error \(backup_not_embedded\): .*pg_basebackup or pg_dump/);
    expect(fs.existsSync(folder)).toBe(false);
  });
});

describe("the backup command's usage", () => {
  it("asks for a folder", async () => {
    const answer = await runCli(server.mailward.services, ["backup"]);
    expect([answer.code, answer.lines]).toEqual([2, ["Usage: backup <new folder>"]]);
  });
});
