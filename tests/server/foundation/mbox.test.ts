import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readMbox } from "../../../server/archive/mbox";
import { tempDir } from "../../support/temp";

async function collect(file: string): Promise<string[]> {
  const out: string[] = [];
  for await (const message of readMbox(file)) out.push(message.toString("latin1"));
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
    const messages = await collect(file);
    expect(messages).toEqual([
      "Subject: one\n\nFrom the start\nbody\n",
      "Subject: two\r\n\r\nlast line without newline",
    ]);
  });

  it("refuses a file that is not an mbox", async () => {
    await expect(collect(write("Subject: not an mbox\n\nbody\n"))).rejects.toThrow(/not an mbox/);
  });
});
