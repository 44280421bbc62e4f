import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { checkAuthentication } from "../../../../server/mail/scan/auth";
import { createOfflineResolver } from "../../../../server/mail/scan/dns";
import {
  headerEndIn,
  headerScanReplaceable,
  MailauthMessageParserClass,
  originalParseHeaders,
  originalProcessChunk,
  parseHeaderBlock,
  useLineHeaderScan,
  useOriginalHeaderScan,
} from "../../../../server/mail/scan/mailauth-header-scan";
import { CORPUS_DIR } from "../../archive/corpus";

/** What mailauth's parser hands on: the header block it parsed, and the body bytes in the chunks it passed. */
interface Split {
  headers: string;
  bodyChunks: string[];
  state: string;
}

class RecordingParser extends MailauthMessageParserClass {
  readonly bodyChunks: string[] = [];
  parsedHeaders: unknown = null;

  override async messageHeaders(headers: unknown): Promise<void> {
    this.parsedHeaders = headers;
  }

  override async nextChunk(chunk: Buffer): Promise<void> {
    this.bodyChunks.push(chunk.toString("latin1"));
  }
}

async function split(chunks: readonly Buffer[]): Promise<Split> {
  const parser = new RecordingParser();
  const finished = new Promise<void>((resolve, reject) => {
    parser.on("finish", () => resolve());
    parser.on("error", reject);
  });
  for (const chunk of chunks) parser.write(chunk);
  parser.end();
  await finished;
  return {
    headers: JSON.stringify(parser.parsedHeaders),
    bodyChunks: parser.bodyChunks,
    state: parser.state,
  };
}

/** The split with mailauth's own byte loop and with ours, for the same chunks. */
async function bothWays(chunks: readonly Buffer[]): Promise<{ original: Split; ours: Split }> {
  useOriginalHeaderScan();
  const original = await split(chunks);
  useLineHeaderScan();
  const ours = await split(chunks);
  return { original, ours };
}

function corpusSample(perFolder: number): Array<{ file: string; raw: Buffer }> {
  const folders = ["spamassassin/ham", "spamassassin/spam", "phishing_pot/phish"];
  return folders.flatMap((folder) => {
    const dir = path.join(CORPUS_DIR, folder);
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".eml"))
      .sort()
      .slice(0, perFolder)
      .map((f) => ({ file: `${folder}/${f}`, raw: fs.readFileSync(path.join(dir, f)) }));
  });
}

const b = (s: string) => Buffer.from(s, "latin1");

afterEach(() => useLineHeaderScan());

describe("mailauth's header/body split, without its byte-by-byte loop", () => {
  it("finds the end of the header block where mailauth does, counting bytes carried from earlier chunks", () => {
    expect(headerEndIn([], b("A: 1\r\n\r\nbody"))).toBe(7);
    expect(headerEndIn([], b("A: 1\n\nbody"))).toBe(5);
    expect(headerEndIn([], b("A: 1\r\nB: 2\r\n"))).toBe(-1);
    // "\r\n" then "\r\n" in the next chunk; "\n" then "\n"; "\n" then "\r\n".
    expect(headerEndIn([0x31, 0x0d, 0x0a], b("\r\nbody"))).toBe(1);
    expect(headerEndIn([0x0a], b("\nbody"))).toBe(0);
    expect(headerEndIn([0x31, 0x0a], b("\r\nbody"))).toBe(1);
    // A bare CR between the line breaks is not a blank line, and the first bytes have nothing before them.
    expect(headerEndIn([], b("A: 1\n\r\r\nB"))).toBe(-1);
    expect(headerEndIn([], b("\r\nA"))).toBe(-1);
    expect(headerEndIn([], b("\n"))).toBe(-1);
  });

  it("splits corpus messages exactly as mailauth's own loop does, whole and in uneven chunks", async () => {
    const sample = corpusSample(40);
    expect(sample.length).toBe(120);
    for (const { file, raw } of sample) {
      const pieces = [raw.subarray(0, 7), raw.subarray(7, 700), raw.subarray(700, 701), raw.subarray(701)];
      for (const chunks of [[raw], pieces]) {
        const { original, ours } = await bothWays(chunks);
        expect(ours, file).toEqual(original);
        expect(original.state, file).toBe("body");
      }
    }
  });

  it("agrees with mailauth at every split point around the blank line, in one-byte chunks, and on odd inputs", async () => {
    const inputs = [
      "From: a@example.org\r\nSubject: hi\r\n\r\nbody line\r\n\r\nmore\r\n",
      "From: a@example.org\nSubject: lf only\n\nbody\n\nmore\n",
      "From: a@example.org\nSubject: mixed\r\n\nbody\r\n",
      "\r\n\r\nbody after an empty header block\r\n",
      "\n\nbody\n",
      "Subject: headers only, no blank line\r\nX: y\r\n",
      "Subject: bare CR\r\r\n\rX: y\r\n\r\nbody",
      "",
    ];
    for (const text of inputs) {
      const raw = b(text);
      const cases: Buffer[][] = [[raw], [...raw].map((byte) => Buffer.from([byte]))];
      for (let at = 1; at < raw.length; at++) cases.push([raw.subarray(0, at), raw.subarray(at)]);
      for (const chunks of cases) {
        const { original, ours } = await bothWays(chunks);
        expect(ours, JSON.stringify({ text, cut: chunks.map((c) => c.length) })).toEqual(original);
      }
    }
  });

  it("parses a header block into the fields mailauth's parseHeaders gives, on corpus and odd inputs", () => {
    const blocks = corpusSample(40).map(({ raw }) => raw.subarray(0, raw.indexOf("\n\n") + 1 || raw.length));
    const odd = [
      " starts folded\r\nA: 1\r\n",
      "A: 1\r\n\tfolded\r\n  twice\r\nB:2\n\xa0nbsp folds too\r\n",
      "no colon\r\n: no name\r\n\r\r\nC: bare\rCR\r\n\r\n\r\n",
      "\r\n\r\n",
      "",
    ];
    for (const block of [...blocks, ...odd.map(b)]) {
      expect(JSON.stringify(parseHeaderBlock(block))).toBe(JSON.stringify(originalParseHeaders(block)));
    }
  });

  // Found by the gateway fuzzer: mailauth's parseHeaders is quadratic in one field's lines (227 s for 60,000, on the
  // thread that answers SMTP) and its trim quadratic in a run of bare CRs (4 s for 50,000).
  it("authenticates a Subject folded over 30,000 lines, and one with 50,000 bare CRs, in linear time", async () => {
    for (const subject of [`a${"\r\n w".repeat(30_000)}`, `a${"\r".repeat(50_000)}x`]) {
      const started = Date.now();
      await checkAuthentication(
        {
          raw: b(`From: a@example.org\r\nSubject: ${subject}\r\n\r\nhi\r\n`),
          envelope: {
            mailFrom: "a@example.org",
            rcptTo: ["b@example.com"],
            clientIp: "192.0.2.1",
            helo: "x",
          },
        },
        createOfflineResolver(),
      );
      expect(Date.now() - started).toBeLessThan(3_000);
    }
  });

  it("is what checkAuthentication runs mailauth with (on the mailauth release it was checked against)", async () => {
    expect(headerScanReplaceable).toBe(true);
    useOriginalHeaderScan();
    expect(MailauthMessageParserClass.prototype.processChunk).toBe(originalProcessChunk);
    await checkAuthentication(
      {
        raw: b("From: a@example.org\r\n\r\nhi\r\n"),
        envelope: { mailFrom: "a@example.org", rcptTo: ["b@example.com"], clientIp: "192.0.2.1", helo: "x" },
      },
      createOfflineResolver(),
    );
    expect(MailauthMessageParserClass.prototype.processChunk).not.toBe(originalProcessChunk);
    expect(MailauthMessageParserClass.prototype.finish.name).toBe("finishByLines");
  });
});
