import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readMbox } from "../../../server/archive/mbox";
import { mboxrdEscape } from "../../../server/archive/export";
import { messagesIn } from "../../../server/archive/mail-source";
import { tempDir } from "../../support/temp";

async function collect(file: string): Promise<Array<{ raw: string; separator: string | null }>> {
  const out: Array<{ raw: string; separator: string | null }> = [];
  for await (const message of readMbox(file))
    out.push({
      raw: message.raw.toString("latin1"),
      separator: message.separator?.toString("latin1") ?? null,
    });
  return out;
}

function write(content: string): string {
  const file = path.join(tempDir("mbox-"), "test.mbox");
  fs.writeFileSync(file, content, "latin1");
  return file;
}

describe("readMbox", () => {
  it("splits on From lines, unescapes >From, and keeps a last line without a newline", async () => {
    const file = write(
      "From a@x Mon Jan  1 00:00:00 2024\nSubject: one\n\n>From the start\nbody\n" +
        "From b@x Mon Jan  1 00:00:01 2024\r\nSubject: two\r\n\r\nlast line without newline",
    );
    expect(await collect(file)).toEqual([
      { raw: "Subject: one\n\nFrom the start\nbody\n", separator: null },
      { raw: "Subject: two\r\n\r\nlast line without newline", separator: null },
    ]);
  });

  it("drops the blank line that ends each message in the file, LF or CRLF, and only that one", async () => {
    const file = write(
      "From a@x Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody\n\n" +
        "From b@x Mon Jan  1 00:00:01 2024\r\nSubject: two\r\n\r\nbody ends with a blank line\r\n\r\n\r\n" +
        "From c@x Mon Jan  1 00:00:02 2024\nSubject: three\n\nlast\n\n",
    );
    expect(await collect(file)).toEqual([
      { raw: "Subject: one\n\nbody\n", separator: "\n" },
      { raw: "Subject: two\r\n\r\nbody ends with a blank line\r\n\r\n", separator: "\r\n" },
      { raw: "Subject: three\n\nlast\n", separator: "\n" },
    ]);
  });

  it("reads back what the mboxrd export wrote, byte for byte: a CR alone before From, many '>' before From", async () => {
    const raws = [
      "Subject: bare CR\r\n\r\nold Mac line\rFrom here on\r\n>From there\r\n",
      `Subject: deep quote\n\n${">".repeat(70)}From the thread\n`,
    ];
    const file = write(
      raws
        .map(
          (raw) =>
            `From MAILER-DAEMON Mon Jan  1 00:00:00 2024\n${mboxrdEscape(Buffer.from(raw, "latin1")).toString("latin1")}\n`,
        )
        .join(""),
    );
    expect((await collect(file)).map((m) => m.raw)).toEqual(raws);
  });

  it("reads a line far longer than one read of the file, and gives a message over maxBytes as oversize only", async () => {
    const long = "y".repeat(3 * 1024 * 1024);
    const file = write(
      `From a@x Mon Jan  1 00:00:00 2024\nSubject: long\n\n${long}\n\n` +
        `From b@x Mon Jan  1 00:00:01 2024\nSubject: longer\n\n${long}${long}` +
        "\nFrom c@x Mon Jan  1 00:00:02 2024\nSubject: after\n\nbody\n",
    );
    const read = [];
    for await (const m of readMbox(file, 4 * 1024 * 1024))
      read.push({ raw: m.raw.toString("latin1"), oversize: m.oversize });
    expect(read).toEqual([
      { raw: `Subject: long\n\n${long}\n`, oversize: null },
      { raw: "", oversize: "Subject: longer\n\n".length + 2 * long.length + 1 },
      { raw: "Subject: after\n\nbody\n", oversize: null },
    ]);
  });

  it("ends a message at a last From line without a newline", async () => {
    const file = write(
      "From a@x Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody\nFrom b@x Mon Jan  1 00:00:01 2024",
    );
    expect(await collect(file)).toEqual([{ raw: "Subject: one\n\nbody\n", separator: null }]);
  });

  it("refuses a file that is not an mbox", async () => {
    await expect(collect(write("Subject: not an mbox\n\nbody\n"))).rejects.toThrow(/not an mbox/);
  });
});

describe("messagesIn", () => {
  it("gives an mbox message's earlier form (with its blank line) and none for an .eml", async () => {
    const mbox = write("From a@x Mon Jan  1 00:00:00 2024\nSubject: one\n\nbody\n\n");
    const fromMbox = [];
    for await (const m of messagesIn(mbox))
      if (m.raw) fromMbox.push({ raw: m.raw.toString(), earlierForm: m.earlierForm?.toString() ?? null });
    expect(fromMbox).toEqual([{ raw: "Subject: one\n\nbody\n", earlierForm: "Subject: one\n\nbody\n\n" }]);

    const folder = tempDir("eml-");
    fs.writeFileSync(path.join(folder, "1.eml"), "Subject: one\n\nbody\n\n");
    const fromFolder = [];
    for await (const m of messagesIn(folder))
      if (m.raw) fromFolder.push({ raw: m.raw.toString(), earlierForm: m.earlierForm });
    expect(fromFolder).toEqual([{ raw: "Subject: one\n\nbody\n\n", earlierForm: null }]);
  });
});
