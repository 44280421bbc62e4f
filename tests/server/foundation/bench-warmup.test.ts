import { describe, expect, it } from "vitest";
import { warmupMessages, type LoadMessage } from "../../../bench/ingest-load";

const lf: LoadMessage = { raw: Buffer.from("Subject: one\n\nbody\n"), label: "ham" };
const crlf: LoadMessage = { raw: Buffer.from("Subject: two\r\n\r\nbody\r\n"), label: "spam" };

// bench:ingest's warm-up may be longer than the training half: the messages come round again, each made new.
describe("bench:ingest warm-up messages", () => {
  it("are the training half's messages in turn, unchanged the first time round", () => {
    const warmup = warmupMessages([lf, crlf], 2);
    expect(warmup.map((m) => m.raw.toString())).toEqual([lf.raw.toString(), crlf.raw.toString()]);
  });

  it("past the training half, each again with a header of its round in the message's own line ending", () => {
    const warmup = warmupMessages([lf, crlf], 5);
    expect(warmup.map((m) => m.raw.toString())).toEqual([
      "Subject: one\n\nbody\n",
      "Subject: two\r\n\r\nbody\r\n",
      "X-Bench-Warmup: 1\nSubject: one\n\nbody\n",
      "X-Bench-Warmup: 1\r\nSubject: two\r\n\r\nbody\r\n",
      "X-Bench-Warmup: 2\nSubject: one\n\nbody\n",
    ]);
    expect(warmup.map((m) => m.label)).toEqual(["ham", "spam", "ham", "spam", "ham"]);
    expect(new Set(warmup.map((m) => m.raw.toString())).size).toBe(5);
  });

  it("are none without a training half", () => {
    expect(warmupMessages([], 3)).toEqual([]);
  });
});
