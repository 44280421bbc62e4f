import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../support/db";
import { testConfig, testServices } from "../../../support/services";
import { tempDir } from "../../../support/temp";
import { buildTenant, buildUser } from "../../../factories";
import { runCliCommand } from "../../../../server/cli/commands";
import { exportEntries, writeMboxExport } from "../../../../server/archive/export";
import { sha256Of } from "../../../../server/archive/store";
import { importMail } from "../../../../server/commands/archive/import-mail";
import { rawMessage } from "./helpers";
import type { Services } from "../../../../server/context";

// What `npm run mailward -- import` reads: the sources it takes, and how it answers one it cannot use.
let database: TestDatabase;
let services: Services;
let owner: Awaited<ReturnType<typeof buildUser>>;

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
  const tenant = await buildTenant(services.db, { domains: ["sources.test"] });
  owner = await buildUser(services.db, { tenantId: tenant.id, email: "sam@sources.test" });
});

afterAll(async () => {
  await database?.destroy();
});

async function cli(cwd: string, ...args: string[]) {
  const lines: string[] = [];
  const code = await runCliCommand(services, args, { print: (l) => lines.push(l) }, cwd);
  return { code, output: lines.join("\n") };
}

describe("import <folder>", () => {
  it("fails with import_source_empty, naming the folder, when it holds no .eml file", async () => {
    const here = tempDir("mw-import-empty-");
    fs.mkdirSync(path.join(here, "saved", "sub"), { recursive: true });
    fs.writeFileSync(path.join(here, "saved", "note.msg"), "not an eml");
    fs.writeFileSync(path.join(here, "saved", "sub", "readme.txt"), "nor this");
    const folder = path.join(here, "saved");
    expect(await cli(here, "import", "saved", "--mailbox", owner.email)).toEqual({
      code: 1,
      output: `Error (import_source_empty): ${folder} holds no .eml files (subfolders included), so nothing was imported: point the import at a folder of .eml files or at an mbox file.`,
    });
    expect(await services.db.selectFrom("messages").select("id").execute()).toEqual([]);
  });
});

/** The SHA-256s of a tenant's archived messages, sorted. */
async function archivedHashes(db: Services["db"], tenantId: string): Promise<string[]> {
  const rows = await db.selectFrom("messages").select("sha256").where("tenant_id", "=", tenantId).execute();
  return rows.map((r) => r.sha256).sort();
}

describe("import <mbox> of our own export", () => {
  it("files the exported messages and not the export's manifest: same count and SHA-256s in a fresh database", async () => {
    const here = tempDir("mw-import-export-");
    fs.mkdirSync(path.join(here, "mail"));
    const bodies = ["Plain text.", "From the top of a line\r\n>From quoted", "Last line\r\n\r\n"];
    bodies.forEach((body, i) =>
      fs.writeFileSync(
        path.join(here, "mail", `${i + 1}.eml`),
        rawMessage({ from: `p${i}@else.test`, to: owner.email, subject: `Round trip ${i}`, body }).raw,
      ),
    );
    expect(await importMail(services, owner.actor, path.join(here, "mail"), owner.email)).toMatchObject({
      imported: 3,
    });
    const scope = { tenantId: owner.tenantId, kind: "tenant" } as const;
    const entries = await exportEntries(services.db, scope, null, null);
    const exported = path.join(here, "export.mbox");
    await writeMboxExport(
      services.db,
      owner.tenantId,
      entries,
      { query: null },
      fs.createWriteStream(exported),
    );
    // Two exports concatenated read as one mbox with two manifests.
    const twice = path.join(here, "twice.mbox");
    fs.writeFileSync(twice, Buffer.concat([fs.readFileSync(exported), fs.readFileSync(exported)]));

    const fresh = await createTestDatabase();
    try {
      const freshServices = testServices(fresh.handle.db, fresh.handle.engine);
      const tenant = await buildTenant(freshServices.db, { domains: ["sources.test"] });
      const reader = await buildUser(freshServices.db, { tenantId: tenant.id, email: owner.email });
      expect(await importMail(freshServices, reader.actor, exported, reader.email)).toEqual({
        imported: 3,
        duplicates: 0,
        failed: 0,
      });
      expect(await importMail(freshServices, reader.actor, twice, reader.email)).toEqual({
        imported: 0,
        duplicates: 6,
        failed: 0,
      });
      expect(await archivedHashes(freshServices.db, tenant.id)).toEqual(
        await archivedHashes(services.db, owner.tenantId),
      );
    } finally {
      await fresh.destroy();
    }
  });

  it("imports a message shaped as a manifest when it does not list exactly the messages before it", async () => {
    const here = tempDir("mw-import-lookalike-");
    const message = rawMessage({
      from: "q@else.test",
      to: owner.email,
      subject: "Before the look-alike",
    }).raw;
    const other = "0".repeat(64);
    const lookalike =
      "From: Mailward export <export@mailward.invalid>\nSubject: Mailward export manifest\n" +
      "Date: Mon, 01 Jan 2024 00:00:00 GMT\nContent-Type: text/plain; charset=utf-8\n\n" +
      `${JSON.stringify({ count: 1, algorithm: "SHA-256" })}\n\n${other}  <someone@else.test>\n`;
    const mbox = path.join(here, "lookalike.mbox");
    fs.writeFileSync(
      mbox,
      `From a@else.test Mon Jan  1 00:00:00 2024\n${message.toString("latin1")}\n` +
        `From MAILER-DAEMON Mon Jan  1 00:00:01 2024\n${lookalike}\n`,
      "latin1",
    );
    expect(await importMail(services, owner.actor, mbox, owner.email)).toEqual({
      imported: 2,
      duplicates: 0,
      failed: 0,
    });
  });
});

describe("import <mbox> with a very long line", () => {
  it("files a message whose one line spans many reads, and names one larger than the size limit as not imported", async () => {
    const limit = 1024 * 1024;
    const limited = testServices(services.db, services.engine, {
      config: testConfig({ MAILWARD_SMTP_MAX_SIZE: String(limit) }),
    });
    const here = tempDir("mw-import-long-");
    const message = (subject: string, line: string) =>
      `Subject: ${subject}\nFrom: long@else.test\nTo: ${owner.email}\nMessage-ID: <${subject}@else.test>\n\n${line}\n`;
    const under = message("long-under", "w".repeat(limit - 1000));
    const over = message("long-over", "x".repeat(3 * limit));
    const shortOnes = [message("short-one", "first"), message("short-two", "last")];
    const mbox = path.join(here, "long.mbox");
    fs.writeFileSync(
      mbox,
      [shortOnes[0], over, under, shortOnes[1]]
        .map((m, i) => `From long@else.test Mon Jan  1 00:00:0${i} 2024\n${m}\n`)
        .join(""),
    );
    const lines: string[] = [];
    const code = await runCliCommand(
      limited,
      ["import", mbox, "--mailbox", owner.email],
      {
        print: (l) => lines.push(l),
      },
      here,
    );
    expect({ code, lines }).toEqual({
      code: 1,
      lines: [
        `Not imported: ${mbox}, message 2 (unreadable: it is ${Buffer.byteLength(over)} bytes, more than the ${limit} a message may be)`,
        `Imported 3 message(s) into ${owner.email} (0 already archived, 1 failed)`,
      ],
    });
    const filed = await services.db
      .selectFrom("messages")
      .select(["message_id", "sha256"])
      .where("message_id", "in", [
        "<long-under@else.test>",
        "<long-over@else.test>",
        "<short-one@else.test>",
        "<short-two@else.test>",
      ])
      .orderBy("message_id")
      .execute();
    // Byte for byte, the long line too.
    expect(filed).toEqual(
      [under, ...shortOnes].map((m, i) => ({
        message_id: `<${["long-under", "short-one", "short-two"][i]}@else.test>`,
        sha256: sha256Of(Buffer.from(m)),
      })),
    );
  });
});

describe("import <folder> with an .eml over the size limit", () => {
  it("names the larger .eml as not imported, files the others, and exits 1 as the mbox case does", async () => {
    const limit = 64 * 1024;
    const limited = testServices(services.db, services.engine, {
      config: testConfig({ MAILWARD_SMTP_MAX_SIZE: String(limit) }),
    });
    const here = tempDir("mw-import-eml-size-");
    const folder = path.join(here, "saved");
    fs.mkdirSync(folder);
    const message = (subject: string, body: string) =>
      `Subject: ${subject}\r\nFrom: big@else.test\r\nTo: ${owner.email}\r\nMessage-ID: <${subject}@else.test>\r\n\r\n${body}\r\n`;
    const over = message("eml-over", "x".repeat(2 * limit));
    fs.writeFileSync(path.join(folder, "1.eml"), message("eml-first", "first"));
    fs.writeFileSync(path.join(folder, "2.eml"), over);
    fs.writeFileSync(path.join(folder, "3.eml"), message("eml-last", "last"));
    const lines: string[] = [];
    const code = await runCliCommand(
      limited,
      ["import", "saved", "--mailbox", owner.email],
      { print: (l) => lines.push(l) },
      here,
    );
    expect({ code, lines }).toEqual({
      code: 1,
      lines: [
        `Not imported: ${path.join(folder, "2.eml")} (unreadable: it is ${Buffer.byteLength(over)} bytes, more than the ${limit} a message may be)`,
        `Imported 2 message(s) into ${owner.email} (0 already archived, 1 failed)`,
      ],
    });
    const filed = await services.db
      .selectFrom("messages")
      .select("message_id")
      .where("message_id", "in", ["<eml-first@else.test>", "<eml-over@else.test>", "<eml-last@else.test>"])
      .orderBy("message_id")
      .execute();
    expect(filed.map((r) => r.message_id)).toEqual(["<eml-first@else.test>", "<eml-last@else.test>"]);
  });
});
