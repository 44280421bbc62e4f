import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../support/db";
import { testServices } from "../../../support/services";
import { buildTenant, buildUser } from "../../../factories";
import { importMail } from "../../../../server/commands/archive/import-mail";
import { runCliCommand } from "../../../../server/cli/commands";
import { rawMessage, rawWithAttachment } from "./helpers";
import type { Services } from "../../../../server/context";

// `npm run mailward -- import`: the same pipeline as SMTP (parse, verdict, archive), without SMTP and without sending.
let database: TestDatabase;
let services: Services;
let dir: string;
let owner: Awaited<ReturnType<typeof buildUser>>;

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
  const tenant = await buildTenant(services.db, { domains: ["import.test"] });
  owner = await buildUser(services.db, {
    tenantId: tenant.id,
    email: "ivy@import.test",
    roles: ["tenant_admin"],
  });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mw-import-"));
});

afterAll(async () => {
  await database?.destroy();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("import through the pipeline", () => {
  it("files received mail in the inbox and the owner's own mail in sent, with verdicts recorded, holding and sending nothing", async () => {
    const received = rawMessage({ from: "partner@else.test", to: owner.email, subject: "Quarterly numbers" });
    const sent = rawMessage({
      from: `Ivy <${owner.email}>`,
      to: "partner@else.test",
      subject: "Re: Quarterly numbers",
    });
    const dangerous = rawWithAttachment({
      from: "bad@else.test",
      to: owner.email,
      filename: "setup.exe",
      content: Buffer.from("MZ\u0090\u0000"),
    });
    fs.writeFileSync(path.join(dir, "1.eml"), received.raw);
    fs.writeFileSync(path.join(dir, "2.eml"), sent.raw);
    fs.mkdirSync(path.join(dir, "sub"));
    fs.writeFileSync(path.join(dir, "sub", "3.eml"), dangerous.raw);

    const result = await importMail(services, owner.actor, dir, owner.email);
    expect(result).toEqual({ imported: 3, duplicates: 0, failed: 0 });

    const rows = await services.db
      .selectFrom("messages")
      .select(["id", "message_id", "source", "direction", "assessment"])
      .where("tenant_id", "=", owner.tenantId)
      .execute();
    const byId = new Map(rows.map((r) => [r.message_id, r]));
    expect(byId.get(received.messageId)).toMatchObject({ source: "import", direction: "inbound" });
    expect(byId.get(sent.messageId)).toMatchObject({ source: "import", direction: "outbound" });
    const links = await services.db
      .selectFrom("mailbox_links")
      .select(["message_id", "folder"])
      .where("user_id", "=", owner.id)
      .execute();
    const folderOf = (messageId: string) =>
      links.find((l) => l.message_id === byId.get(messageId)?.id)?.folder;
    expect(folderOf(received.messageId)).toBe("inbox");
    expect(folderOf(sent.messageId)).toBe("sent");
    // The dangerous one keeps its verdict on record, but an import never quarantines or relays.
    expect(folderOf(dangerous.messageId)).toBe("inbox");
    const record = byId.get(dangerous.messageId)?.assessment as {
      mode: string;
      malware: boolean;
      decisions: { action: string; reason: string }[];
    };
    expect(record).toMatchObject({ mode: "import", malware: true });
    expect(record.decisions[0]).toMatchObject({ action: "hold", reason: "dangerous_attachment" });
    expect(await services.db.selectFrom("held_items").select("id").execute()).toHaveLength(0);
    expect(await services.db.selectFrom("deliveries").select("id").execute()).toHaveLength(0);
  });

  it("reads an mbox too, and a second import of the same mail adds nothing", async () => {
    const a = rawMessage({
      from: "x@else.test",
      to: owner.email,
      body: "From the start of a line\r\nsecond line",
    });
    const b = rawMessage({ from: "y@else.test", to: owner.email });
    const mbox = path.join(dir, "mail.mbox");
    const escape = (raw: Buffer) => raw.toString("latin1").replace(/^From /gm, ">From ");
    fs.writeFileSync(
      mbox,
      `From x@else.test Mon Jan  1 00:00:00 2024\n${escape(a.raw)}\nFrom y@else.test Mon Jan  1 00:00:01 2024\n${escape(b.raw)}\n`,
      "latin1",
    );
    expect(await importMail(services, owner.actor, mbox, owner.email)).toEqual({
      imported: 2,
      duplicates: 0,
      failed: 0,
    });
    expect(await importMail(services, owner.actor, mbox, owner.email)).toEqual({
      imported: 0,
      duplicates: 2,
      failed: 0,
    });
    expect(await importMail(services, owner.actor, dir, owner.email)).toMatchObject({
      imported: 0,
      duplicates: 3,
    });
  });

  it("takes an mbox message as the same mail as its .eml, and does not file again what an mbox import filed before", async () => {
    const here = fs.mkdtempSync(path.join(dir, "same-"));
    const mboxOf = (raws: Buffer[]) => {
      const file = path.join(here, `${raws.length}-${Date.now()}.mbox`);
      const entries = raws.map(
        (raw) => `From x@else.test Mon Jan  1 00:00:00 2024\n${raw.toString("latin1")}\n`,
      );
      fs.writeFileSync(file, entries.join(""), "latin1");
      return file;
    };
    const crlfEnded = (raw: Buffer) =>
      raw.toString("latin1").endsWith("\r\n") ? raw : Buffer.concat([raw, Buffer.from("\r\n")]);
    const first = crlfEnded(rawMessage({ from: "m@else.test", to: owner.email, subject: "mbox first" }).raw);
    const eml = path.join(here, "eml");
    fs.mkdirSync(eml);
    fs.writeFileSync(path.join(eml, "first.eml"), first);
    expect(await importMail(services, owner.actor, mboxOf([first]), owner.email)).toEqual({
      imported: 1,
      duplicates: 0,
      failed: 0,
    });
    // The blank line that ends it in the mbox is not the message's: its .eml is the same bytes.
    expect(await importMail(services, owner.actor, eml, owner.email)).toEqual({
      imported: 0,
      duplicates: 1,
      failed: 0,
    });

    // Before 2026-11-30 the reader kept that blank line, so the archive holds such mail with it.
    const earlier = crlfEnded(
      rawMessage({ from: "n@else.test", to: owner.email, subject: "imported long ago" }).raw,
    );
    const legacy = path.join(here, "legacy");
    fs.mkdirSync(legacy);
    fs.writeFileSync(path.join(legacy, "as-read-then.eml"), Buffer.concat([earlier, Buffer.from("\n")]));
    expect(await importMail(services, owner.actor, legacy, owner.email)).toMatchObject({ imported: 1 });
    expect(await importMail(services, owner.actor, mboxOf([earlier, first]), owner.email)).toEqual({
      imported: 0,
      duplicates: 2,
      failed: 0,
    });
  });

  it("files mail an mbox import took before 2026-11-30 for another mailbox in this one too, without a second copy", async () => {
    const here = fs.mkdtempSync(path.join(dir, "legacy-shared-"));
    const colleague = await buildUser(services.db, { tenantId: owner.tenantId, email: "jo@import.test" });
    const raw = rawMessage({ from: "n@else.test", to: "team@import.test", subject: "shared long ago" }).raw;
    const crlfEnded = raw.toString("latin1").endsWith("\r\n")
      ? raw
      : Buffer.concat([raw, Buffer.from("\r\n")]);
    fs.mkdirSync(path.join(here, "then"));
    // As the reader before 2026-11-30 took it from the mbox, for the owner: with the blank line that ended it there.
    fs.writeFileSync(path.join(here, "then", "1.eml"), Buffer.concat([crlfEnded, Buffer.from("\n")]));
    expect(await importMail(services, owner.actor, path.join(here, "then"), owner.email)).toMatchObject({
      imported: 1,
    });
    const mbox = path.join(here, "shared.mbox");
    fs.writeFileSync(
      mbox,
      `From n@else.test Mon Jan  1 00:00:00 2024\n${crlfEnded.toString("latin1")}\n`,
      "latin1",
    );
    expect(await importMail(services, owner.actor, mbox, colleague.email)).toEqual({
      imported: 0,
      duplicates: 1,
      failed: 0,
    });
    const links = await services.db
      .selectFrom("mailbox_links")
      .innerJoin("messages", "messages.id", "mailbox_links.message_id")
      .select(["mailbox_links.folder", "messages.subject"])
      .where("mailbox_links.user_id", "=", colleague.id)
      .execute();
    expect(links).toEqual([{ folder: "inbox", subject: "shared long ago" }]);
  });

  it("runs from the CLI with the source relative to the caller's folder, and says how to call it", async () => {
    const here = fs.mkdtempSync(path.join(dir, "cli-"));
    fs.mkdirSync(path.join(here, "mail"));
    fs.writeFileSync(
      path.join(here, "mail", "1.eml"),
      rawMessage({ from: "cli@else.test", to: owner.email, subject: "From the CLI" }).raw,
    );
    const cli = async (...args: string[]) => {
      const lines: string[] = [];
      const code = await runCliCommand(services, args, { print: (l) => lines.push(l) }, here);
      return { code, output: lines.join("\n") };
    };
    expect(await cli("import", "mail", "--mailbox", owner.email)).toEqual({
      code: 0,
      output: `Imported 1 message(s) into ${owner.email} (0 already archived, 0 failed)`,
    });
    expect(await cli("import", "mail")).toEqual({
      code: 2,
      output: "Usage: import <mbox|folder> --mailbox <user email>",
    });
    expect(await cli("import", "--mailbox", owner.email)).toMatchObject({ code: 2 });
  });

  it("files into the mailbox asked for, also of someone who left the directory (their archive is kept)", async () => {
    const leaver = await buildUser(services.db, { tenantId: owner.tenantId, email: "gone@import.test" });
    await services.db
      .updateTable("users")
      .set({ left_directory_at: new Date(), disabled_at: new Date() })
      .where("id", "=", leaver.id)
      .execute();
    const here = fs.mkdtempSync(path.join(dir, "leaver-"));
    fs.writeFileSync(path.join(here, "1.eml"), rawMessage({ from: "p@else.test", to: leaver.email }).raw);
    fs.writeFileSync(path.join(here, "2.eml"), rawMessage({ from: leaver.email, to: "p@else.test" }).raw);
    expect(await importMail(services, owner.actor, here, leaver.email)).toEqual({
      imported: 2,
      duplicates: 0,
      failed: 0,
    });
    const links = await services.db
      .selectFrom("mailbox_links")
      .select("folder")
      .where("user_id", "=", leaver.id)
      .orderBy("folder")
      .execute();
    expect(links.map((l) => l.folder)).toEqual(["inbox", "sent"]);
  });

  it("reads .eml through symbolic links, and reports a file it cannot read by name while importing the rest", async () => {
    const here = fs.mkdtempSync(path.join(dir, "unreadable-"));
    const store = fs.mkdtempSync(path.join(dir, "store-"));
    const linked = rawMessage({ from: "l@else.test", to: owner.email, subject: "through a link" });
    fs.writeFileSync(path.join(store, "kept.eml"), linked.raw);
    fs.mkdirSync(path.join(store, "more"));
    const inLinkedFolder = rawMessage({
      from: "f@else.test",
      to: owner.email,
      subject: "in a linked folder",
    });
    fs.writeFileSync(path.join(store, "more", "1.eml"), inLinkedFolder.raw);
    fs.writeFileSync(path.join(here, "1.eml"), rawMessage({ from: "a@else.test", to: owner.email }).raw);
    // Bigger than a Buffer's read of a whole file may be (sparse: it takes no disk).
    fs.writeFileSync(path.join(here, "2.eml"), "");
    fs.truncateSync(path.join(here, "2.eml"), 3 * 1024 ** 3);
    fs.symlinkSync(path.join(store, "kept.eml"), path.join(here, "3.eml"));
    fs.symlinkSync(path.join(store, "gone.eml"), path.join(here, "4.eml"));
    fs.symlinkSync(path.join(store, "more"), path.join(here, "5-folder"));
    fs.writeFileSync(path.join(here, "6.eml"), rawMessage({ from: "b@else.test", to: owner.email }).raw);

    const lines: string[] = [];
    const code = await runCliCommand(
      services,
      ["import", here, "--mailbox", owner.email],
      { print: (l) => lines.push(l) },
      dir,
    );
    expect(code).toBe(1);
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^Not imported: ${path.join(here, "2.eml")} \\(unreadable: `)),
      expect.stringMatching(new RegExp(`^Not imported: ${path.join(here, "4.eml")} \\(unreadable: ENOENT`)),
      `Imported 4 message(s) into ${owner.email} (0 already archived, 2 failed)`,
    ]);
    const filed = await services.db
      .selectFrom("messages")
      .select("message_id")
      .where("message_id", "in", [linked.messageId, inLinkedFolder.messageId])
      .execute();
    expect(filed).toHaveLength(2);
  });

  it("files what the owner sent from one of their other addresses in sent", async () => {
    const sender = await buildUser(services.db, { tenantId: owner.tenantId, email: "kit@import.test" });
    await services.db
      .insertInto("user_addresses")
      .values({ address: "sales@import.test", tenant_id: owner.tenantId, user_id: sender.id })
      .execute();
    const here = fs.mkdtempSync(path.join(dir, "alias-"));
    fs.writeFileSync(
      path.join(here, "1.eml"),
      rawMessage({ from: "Sales <Sales@import.test>", to: "customer@else.test", subject: "Your order" }).raw,
    );
    expect(await importMail(services, owner.actor, here, sender.email)).toMatchObject({ imported: 1 });
    const filed = await services.db
      .selectFrom("mailbox_links")
      .innerJoin("messages", "messages.id", "mailbox_links.message_id")
      .select(["mailbox_links.folder", "messages.direction"])
      .where("mailbox_links.user_id", "=", sender.id)
      .execute();
    expect(filed).toEqual([{ folder: "sent", direction: "outbound" }]);
  });

  it("reads the owner in a folded From with an encoded name, and not in a Sender field", async () => {
    const sender = await buildUser(services.db, { tenantId: owner.tenantId, email: "lee@import.test" });
    const here = fs.mkdtempSync(path.join(dir, "folded-"));
    const message = (id: string, originator: string) =>
      Buffer.from(
        `${originator}\r\nTo: customer@else.test\r\nSubject: Folded\r\nMessage-ID: <${id}@import.test>\r\n` +
          "Date: Tue, 01 Dec 2026 10:00:00 +0000\r\n\r\nHello\r\n",
      );
    fs.writeFileSync(
      path.join(here, "1.eml"),
      message("folded", "From: =?utf-8?q?L=C3=A9e?=\r\n <LEE@import.test>"),
    );
    fs.writeFileSync(
      path.join(here, "2.eml"),
      message("on-behalf", "From: Boss <boss@else.test>\r\nSender: lee@import.test"),
    );
    expect(await importMail(services, owner.actor, here, sender.email)).toMatchObject({ imported: 2 });
    const filed = await services.db
      .selectFrom("mailbox_links")
      .innerJoin("messages", "messages.id", "mailbox_links.message_id")
      .select(["messages.message_id", "mailbox_links.folder"])
      .where("mailbox_links.user_id", "=", sender.id)
      .orderBy("messages.message_id")
      .execute();
    expect(filed).toEqual([
      { message_id: "<folded@import.test>", folder: "sent" },
      { message_id: "<on-behalf@import.test>", folder: "inbox" },
    ]);
  });

  it("refuses an unknown mailbox", async () => {
    await expect(importMail(services, owner.actor, dir, "nobody@import.test")).rejects.toMatchObject({
      id: "not_found",
    });
  });
});
