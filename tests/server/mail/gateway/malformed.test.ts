import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../../support/server";
import { buildUser, tenantOfDomain } from "../../../factories";
import { newMessageId, rawWithAttachment, smtpSend, standardDns } from "./helpers";
import { readRawMessage } from "../../../../server/archive/store";

// Hostile and broken input: each message gets a verdict and an archived copy (or a clean SMTP error), and the gateway stays up.
let server: TestServer;
const TO = "hank@example.com";

beforeAll(async () => {
  server = await startTestServer({}, { dnsResolver: standardDns() });
  const db = server.mailward.services.db;
  const tenantId = await tenantOfDomain(db);
  await buildUser(db, { tenantId, email: TO });
});

afterAll(async () => {
  await server?.stop();
});

function head(messageId: string, extra: string[] = []): string[] {
  return [
    `From: Someone <someone@nice.test>`,
    `To: ${TO}`,
    `Subject: malformed`,
    `Message-ID: ${messageId}`,
    `Date: ${new Date().toUTCString()}`,
    ...extra,
  ];
}

/** Sends the bytes and checks: 250, archived byte-for-byte, with a verdict on record, and the Message-ID if given. */
async function expectArchivedWithVerdict(raw: Buffer, messageId: string) {
  const reply = await smtpSend(server.smtpPort, { from: "someone@nice.test", to: [TO] }, raw);
  expect(reply, reply.response).toMatchObject({ ok: true, code: 250 });
  const db = server.mailward.services.db;
  const queuedAs = /queued as ([0-9a-f-]{36})/.exec(reply.response)?.[1];
  expect(queuedAs).toBeDefined();
  const message = await db
    .selectFrom("messages")
    .selectAll()
    .where("id", "=", queuedAs!)
    .executeTakeFirstOrThrow();
  const stored = await readRawMessage(db, message.tenant_id, message.sha256);
  expect(stored?.equals(raw)).toBe(true);
  const record = message.assessment as { decisions: { action: string }[]; signals: unknown[] };
  expect(record.decisions).toHaveLength(1);
  expect(["deliver", "hold"]).toContain(record.decisions[0]?.action);
  if (message.message_id && messageId) expect(message.message_id).toBe(messageId);
  return { message, record };
}

async function gatewayStillServes() {
  const id = newMessageId();
  const raw = Buffer.from([...head(id), "", "still here", ""].join("\r\n"));
  expect(await smtpSend(server.smtpPort, { from: "someone@nice.test", to: [TO] }, raw)).toMatchObject({
    ok: true,
    code: 250,
  });
}

describe("malformed input", () => {
  it("broken MIME: an unterminated multipart with a bogus boundary and junk headers", async () => {
    const id = newMessageId();
    const raw = Buffer.from(
      [
        ...head(id, [
          "Content-Type: multipart/mixed; boundary=",
          "X-Junk: =?utf-8?B?####?=",
          "Bad header line without colon",
        ]),
        "",
        "--",
        "Content-Type: text/plain",
        "",
        "body without end",
        "--zzz",
        "",
      ].join("\r\n"),
    );
    await expectArchivedWithVerdict(raw, id);
    await gatewayStillServes();
  });

  it("an 8bit body with no charset", async () => {
    const id = newMessageId();
    const raw = Buffer.concat([
      Buffer.from(
        [
          ...head(id, ["MIME-Version: 1.0", "Content-Type: text/plain", "Content-Transfer-Encoding: 8bit"]),
          "",
          "",
        ].join("\r\n"),
      ),
      Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0xff, 0xfe, 0x80, 0x0d, 0x0a]),
    ]);
    await expectArchivedWithVerdict(raw, id);
  });

  it("a line far over 998 characters", async () => {
    const id = newMessageId();
    // One 200 kB line of words (what HTML mail often looks like) plus a 3,000-character unbroken token, and a 5,000-character header line.
    const line = `${"lorem ipsum dolor sit amet ".repeat(7500)}${"A".repeat(3000)}`;
    const raw = Buffer.from([...head(id, [`X-Long: ${"h".repeat(5000)}`]), "", line, ""].join("\r\n"));
    await expectArchivedWithVerdict(raw, id);
  });

  it("NUL bytes in headers, body and an attachment name", async () => {
    const id = newMessageId();
    const boundary = "nulnul";
    const raw = Buffer.from(
      [
        ...head(id, [
          "X-Nul: a\u0000b",
          "MIME-Version: 1.0",
          `Content-Type: multipart/mixed; boundary="${boundary}"`,
        ]),
        "",
        `--${boundary}`,
        "Content-Type: text/plain",
        "",
        "hello\u0000world",
        `--${boundary}`,
        'Content-Type: application/octet-stream; name="a\u0000b.exe"',
        'Content-Disposition: attachment; filename="a\u0000b.exe"',
        "",
        "MZ\u0000\u0000",
        `--${boundary}--`,
        "",
      ].join("\r\n"),
      "latin1",
    );
    const { record } = await expectArchivedWithVerdict(raw, id);
    expect(JSON.stringify(record)).not.toContain("\\u0000");
  });

  it("a multipart with 10,000 parts", async () => {
    const id = newMessageId();
    const boundary = "many";
    const parts: string[] = [];
    for (let i = 0; i < 10_000; i++) parts.push(`--${boundary}`, "Content-Type: text/plain", "", `part ${i}`);
    const raw = Buffer.from(
      [
        ...head(id, ["MIME-Version: 1.0", `Content-Type: multipart/mixed; boundary="${boundary}"`]),
        "",
        ...parts,
        `--${boundary}--`,
        "",
      ].join("\r\n"),
    );
    await expectArchivedWithVerdict(raw, id);
    await gatewayStillServes();
  });

  it("message/rfc822 nested 60 levels deep", async () => {
    const id = newMessageId();
    let inner = ["From: deep@nice.test", "Subject: innermost", "", "the bottom"].join("\r\n");
    for (let level = 0; level < 60; level++) {
      inner = [
        "From: layer@nice.test",
        `Subject: layer ${level}`,
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="L' + level + '"',
        "",
        `--L${level}`,
        "Content-Type: message/rfc822",
        "",
        inner,
        `--L${level}--`,
      ].join("\r\n");
    }
    const raw = Buffer.from(
      [
        ...head(id, ["MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="top"']),
        "",
        "--top",
        "Content-Type: message/rfc822",
        "",
        inner,
        "--top--",
        "",
      ].join("\r\n"),
    );
    await expectArchivedWithVerdict(raw, id);
    await gatewayStillServes();
  });

  it("a zip bomb is archived and held as a dangerous attachment", async () => {
    const bomb = execFileSync("sh", ["-c", "head -c 60000000 /dev/zero | zip -q -9 - -"], {
      maxBuffer: 10 * 1024 * 1024,
    });
    expect(bomb.length).toBeLessThan(200_000);
    const message = rawWithAttachment({
      from: "someone@nice.test",
      to: TO,
      filename: "report.zip",
      content: bomb,
      contentType: "application/zip",
    });
    const { record } = await expectArchivedWithVerdict(message.raw, message.messageId);
    expect(record.decisions[0]?.action).toBe("hold");
    expect(JSON.stringify(record.signals)).toMatch(/attachment\.zip_bomb/);
    await gatewayStillServes();
  });

  // Found by the seeded fuzzer (fuzz.test.ts): each answered 451 4.3.0 from a database error, for ever, and failed import.
  it("a header line whose name is a NUL byte", async () => {
    const id = newMessageId();
    const raw = Buffer.from(
      [...head(id, ["\u0000: nul", "X-\u0000y: nul"]), "", "body", ""].join("\r\n"),
      "latin1",
    );
    const { message } = await expectArchivedWithVerdict(raw, id);
    expect(JSON.stringify(message.headers)).not.toContain("\\u0000");
  });

  it("a Date past the year 9999 (archived with the time it arrived)", async () => {
    for (const date of ["Sat, 1 Jan 10000 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 -2359"]) {
      const id = newMessageId();
      const raw = Buffer.from(
        [...head(id).filter((h) => !h.startsWith("Date:")), `Date: ${date}`, "", "x", ""].join("\r\n"),
      );
      const { message } = await expectArchivedWithVerdict(raw, id);
      expect(Math.abs(new Date(message.date).getTime() - Date.now())).toBeLessThan(60_000);
    }
  });

  it("ids and a From address too long for an index entry once in UTF-8 (998 CJK characters)", async () => {
    // Random CJK: 3 bytes a character, which PostgreSQL's compression cannot shrink below an index entry's 2,704.
    let x = 1;
    const cjk = (n: number) =>
      Array.from({ length: n }, () =>
        String.fromCharCode(0x4e00 + ((x = (x * 48271) % 0x7fffffff) % 20000)),
      ).join("");
    const program = [
      'Content-Type: multipart/mixed; boundary="b"',
      "",
      "--b",
      'Content-Type: application/octet-stream; name="a.exe"',
      "Content-Transfer-Encoding: base64",
      "",
      Buffer.from("MZ\x90\x00").toString("base64"),
      "--b--",
    ];
    const longId = `<${cjk(990)}@x>`;
    const cases = [
      { id: longId, lines: [...head(longId), "", "x"] },
      {
        id: "",
        lines: [...head(newMessageId(), [`In-Reply-To: ${longId}`, `References: ${longId}`]), "", "x"],
      },
      // Held, as a program is attached: the held list indexes the sender's address.
      { id: "", lines: [`From: <${cjk(3000)}@nice.test>`, `To: ${TO}`, "MIME-Version: 1.0", ...program] },
    ];
    for (const { id, lines } of cases) {
      const { message } = await expectArchivedWithVerdict(Buffer.from([...lines, ""].join("\r\n")), "");
      if (id) expect(id.startsWith(message.message_id ?? "-")).toBe(true);
      expect(Buffer.byteLength(message.message_id ?? "")).toBeLessThanOrEqual(998);
      expect(Buffer.byteLength(message.from_address)).toBeLessThanOrEqual(998);
    }
  });

  it("garbage that is not a message at all", async () => {
    const raw = Buffer.from("\u0000\u0001\u0002 not mail \r\n\r\n\u00ff".repeat(50), "latin1");
    const reply = await smtpSend(server.smtpPort, { from: "someone@nice.test", to: [TO] }, raw);
    expect(reply).toMatchObject({ ok: true, code: 250 });
    await gatewayStillServes();
  });
});
