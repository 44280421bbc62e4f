import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ClamdUnavailableError,
  DEFAULT_CLAMD_STREAM_LIMIT,
  clamdAddressOf,
  clamdScan,
  verdictOfReply,
} from "../../../../server/mail/scan/clamd";
import { loadConfig } from "../../../../server/config";
import { AntivirusScanner } from "../../../../server/mail/scan/antivirus";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import { emptyParsedMail } from "./support/messages";
import {
  CLAMD_STREAM_LIMIT,
  EICAR,
  EICAR_SIGNATURE,
  startClamd,
  type ClamdHandle,
} from "../../../support/clamd";
import { freePort } from "../../../support/ports";
import { rawMessage, rawWithAttachment } from "../gateway/helpers";

// ClamAV's daemon, started by the test with a private signature database (EICAR only): the client
// speaks clamd's INSTREAM protocol over TCP and a Unix socket, and the antivirus step turns its
// answers into signals, or into a refusal to pass judgement when clamd cannot answer.
let clamd: ClamdHandle = { ok: false, reason: "not started" };

beforeAll(async () => {
  clamd = await startClamd();
  if (!clamd.ok) console.warn(`SKIPPED real-clamd tests: ${clamd.reason}`);
}, 120_000);

afterAll(async () => {
  if (clamd.ok) await clamd.stop();
});

const infected = () =>
  rawWithAttachment({
    from: "billing@outside.test",
    to: "ann@contoso.test",
    filename: "invoice.txt",
    content: Buffer.from(EICAR),
    contentType: "text/plain",
  }).raw;
const clean = () => rawMessage({ from: "friend@outside.test", to: "ann@contoso.test" }).raw;

describe("clamdScan against a real clamd", () => {
  it("finds the EICAR test file inside a base64 MIME attachment, over TCP and over the Unix socket", async (ctx) => {
    if (!clamd.ok) return ctx.skip();
    const tcp = await clamdScan(clamdAddressOf(clamd.address), infected(), 10_000);
    expect(tcp).toEqual({ kind: "infected", signature: EICAR_SIGNATURE });
    const unix = await clamdScan(clamdAddressOf(clamd.socketPath), infected(), 10_000);
    expect(unix).toEqual({ kind: "infected", signature: EICAR_SIGNATURE });
  });

  it("answers clean for ordinary mail, including one sent in many chunks", async (ctx) => {
    if (!clamd.ok) return ctx.skip();
    expect(await clamdScan(clamdAddressOf(clamd.address), clean(), 10_000)).toEqual({ kind: "clean" });
    const large = rawMessage({
      from: "friend@outside.test",
      to: "ann@contoso.test",
      body: randomBytes(300_000).toString("base64").replace(/.{76}/g, "$&\r\n"),
    }).raw;
    expect(await clamdScan(clamdAddressOf(clamd.address), large, 10_000)).toEqual({ kind: "clean" });
  });

  it("says a message past clamd's stream limit was not scanned, without sending it, and scans one at the limit", async (ctx) => {
    if (!clamd.ok) return ctx.skip();
    const atLimit = Buffer.concat([clean(), Buffer.alloc(CLAMD_STREAM_LIMIT - clean().length, "a")]);
    expect(atLimit.length).toBe(CLAMD_STREAM_LIMIT);
    const address = clamdAddressOf(clamd.address);
    expect(await clamdScan(address, atLimit, 10_000, CLAMD_STREAM_LIMIT)).toEqual({ kind: "clean" });
    const over = Buffer.concat([atLimit, Buffer.from("a")]);
    expect(await clamdScan(address, over, 10_000, CLAMD_STREAM_LIMIT)).toEqual({ kind: "too_large" });
    // Not sent: a port nobody listens on gives the same answer.
    const closed = { host: "127.0.0.1", port: await freePort() };
    expect(await clamdScan(closed, over, 2000, CLAMD_STREAM_LIMIT)).toEqual({ kind: "too_large" });
    await expect(clamdScan(closed, atLimit, 2000, CLAMD_STREAM_LIMIT)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe("clamdScan when clamd answers before the stream ends", () => {
  it("takes the size-limit answer clamd sends part way through a stream", async () => {
    // As clamd does past its StreamMaxLength: the answer comes while the client is still sending.
    const limited: Server = createServer((socket) => {
      let seen = 0;
      socket.on("data", (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > 100_000 && seen - chunk.length <= 100_000)
          socket.write("INSTREAM size limit exceeded. ERROR\0");
      });
    });
    await new Promise<void>((resolve) => limited.listen(0, "127.0.0.1", resolve));
    const address = limited.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      const huge = Buffer.concat([clean(), Buffer.alloc(1_000_000, "a")]);
      expect(await clamdScan({ host: "127.0.0.1", port }, huge, 5000)).toEqual({ kind: "too_large" });
    } finally {
      limited.close();
    }
  });
});

describe("clamdScan when clamd cannot answer", () => {
  it("rejects with ClamdUnavailableError for a closed port", async () => {
    const port = await freePort();
    await expect(clamdScan({ host: "127.0.0.1", port }, clean(), 2000)).rejects.toThrow(
      ClamdUnavailableError,
    );
    await expect(clamdScan({ host: "127.0.0.1", port }, clean(), 2000)).rejects.toThrow(/ECONNREFUSED/);
  });

  it("rejects after the timeout when clamd takes the stream and never answers", async () => {
    const silent: Server = createServer((socket) => socket.on("data", () => undefined));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      await expect(clamdScan({ host: "127.0.0.1", port }, clean(), 300)).rejects.toThrow(
        /no answer within 300 ms/,
      );
    } finally {
      silent.close();
    }
  });

  it("rejects when the connection closes without a reply", async () => {
    const closing: Server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => closing.listen(0, "127.0.0.1", resolve));
    const address = closing.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      await expect(clamdScan({ host: "127.0.0.1", port }, clean(), 2000)).rejects.toThrow(
        ClamdUnavailableError,
      );
    } finally {
      closing.close();
    }
  });
});

describe("clamd's replies and addresses", () => {
  it("reads OK, FOUND and the size limit, and treats any other ERROR as unavailable", () => {
    expect(verdictOfReply("stream: OK\0")).toEqual({ kind: "clean" });
    expect(verdictOfReply("stream: Win.Test.EICAR_HDB-1 FOUND\0")).toEqual({
      kind: "infected",
      signature: "Win.Test.EICAR_HDB-1",
    });
    expect(verdictOfReply("INSTREAM size limit exceeded. ERROR\0")).toEqual({ kind: "too_large" });
    expect(() => verdictOfReply("Can't allocate memory ERROR\0")).toThrow(ClamdUnavailableError);
    expect(() => verdictOfReply("")).toThrow(/empty reply/);
  });

  it("parses host:port, a bracketed IPv6 address and a socket path, and refuses anything else", () => {
    expect(clamdAddressOf("127.0.0.1:3310")).toEqual({ host: "127.0.0.1", port: 3310 });
    expect(clamdAddressOf("[::1]:3310")).toEqual({ host: "::1", port: 3310 });
    expect(clamdAddressOf("/run/clamav/clamd.ctl")).toEqual({ path: "/run/clamav/clamd.ctl" });
    expect(() => clamdAddressOf("clamd")).toThrow(/host:port or a socket path/);
  });

  it("refuses a MAILWARD_CLAMD that is neither at start, naming the setting", () => {
    expect(loadConfig({ MAILWARD_CLAMD: "/run/clamav/clamd.ctl" }).MAILWARD_CLAMD).toBe(
      "/run/clamav/clamd.ctl",
    );
    expect(() => loadConfig({ MAILWARD_CLAMD: "clamd please" })).toThrow(/MAILWARD_CLAMD/);
  });
});

describe("AntivirusScanner", () => {
  const input = (raw: Buffer) => ({
    raw,
    parsed: emptyParsedMail(),
    envelope: {
      mailFrom: "billing@outside.test",
      rcptTo: ["ann@contoso.test"],
      clientIp: "203.0.113.9",
      helo: "h",
    },
    tenant: { domains: ["contoso.test"], people: [] },
  });

  it("marks a virus as malware with its signature, and leaves clean mail as the inner scanner judged it", async (ctx) => {
    if (!clamd.ok) return ctx.skip();
    const inner = new BuiltinScanner();
    const scanner = new AntivirusScanner(inner, { clamd: clamd.address });
    const found = await scanner.assess(input(infected()));
    expect(found.malware).toBe(true);
    expect(found.signals.find((s) => s.id === "antivirus.infected")).toMatchObject({
      detail: EICAR_SIGNATURE,
      weight: 10,
    });
    expect(found.score).toBeGreaterThanOrEqual(10);
    const message = clean();
    const passed = await scanner.assess(input(message));
    expect(passed).toEqual(await inner.assess(input(message)));
  });

  it("records a message too large for clamd as unscanned, without calling it malware", async () => {
    const scanner = new AntivirusScanner(new BuiltinScanner(), {
      clamd: "127.0.0.1:1",
      scan: async () => ({ kind: "too_large" }),
    });
    const a = await scanner.assess(input(clean()));
    expect(a.malware).toBe(false);
    expect(a.signals.map((s) => s.id)).toContain("antivirus.unscanned");
  });

  it("passes clamd's stream limit to the scan: clamd's default, or the one it is given", async () => {
    const limits: number[] = [];
    const scan = async (_a: unknown, _r: Buffer, _t: number, limit: number) => {
      limits.push(limit);
      return { kind: "clean" as const };
    };
    await new AntivirusScanner(new BuiltinScanner(), { clamd: "127.0.0.1:1", scan }).assess(input(clean()));
    await new AntivirusScanner(new BuiltinScanner(), {
      clamd: "127.0.0.1:1",
      scan,
      streamLimit: 1000,
    }).assess(input(clean()));
    expect(limits).toEqual([DEFAULT_CLAMD_STREAM_LIMIT, 1000]);
    expect(loadConfig({}).MAILWARD_CLAMD_STREAM_LIMIT).toBe(25 * 1024 * 1024);
    expect(loadConfig({ MAILWARD_CLAMD_STREAM_LIMIT: "1048576" }).MAILWARD_CLAMD_STREAM_LIMIT).toBe(1048576);
    expect(() => loadConfig({ MAILWARD_CLAMD_STREAM_LIMIT: "25M" })).toThrow(/MAILWARD_CLAMD_STREAM_LIMIT/);
  });

  it("rejects instead of passing judgement when clamd is down", async () => {
    const port = await freePort();
    const scanner = new AntivirusScanner(new BuiltinScanner(), {
      clamd: `127.0.0.1:${port}`,
      timeoutMs: 2000,
    });
    await expect(scanner.assess(input(infected()))).rejects.toThrow(ClamdUnavailableError);
  });
});
