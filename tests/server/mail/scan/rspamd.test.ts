import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decide } from "../../../../server/mail/scan/decide";
import { createScanner } from "../../../../server/mail/scan/index";
import { RspamdScanner } from "../../../../server/mail/scan/rspamd";
import { authFromSymbols, familyOfSymbol } from "../../../../server/mail/scan/rspamd-map";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import { buildRaw, hasSignal, scanInput } from "./support/messages";
import { startRspamd, type RspamdHandle } from "./support/rspamd";
import { GTUBE } from "../../../../server/mail/scan/test-strings";

const PE = Buffer.concat([Buffer.from("MZ"), Buffer.alloc(300, 0x90)]);

let rspamd: RspamdHandle = { ok: false, reason: "not started" };

beforeAll(async () => {
  rspamd = await startRspamd();
  if (!rspamd.ok) console.warn(`SKIPPED real-rspamd tests: ${rspamd.reason}`);
}, 400_000);

afterAll(async () => {
  if (rspamd.ok) await rspamd.stop();
});

describe("RspamdScanner against a real rspamd", () => {
  function scanner(): RspamdScanner {
    if (!rspamd.ok) throw new Error("rspamd not running");
    return new RspamdScanner({ url: rspamd.url, timeoutMs: 30_000, authservId: "mx.contoso.example" });
  }

  it("maps an ordinary message to an Assessment that delivers", async (ctx) => {
    if (!rspamd.ok) return ctx.skip();
    const a = await scanner().assess(
      await scanInput(
        buildRaw({ from: "Alice <alice@example.org>", text: "Hi Jane, the report is ready.\r\n" }),
      ),
    );
    expect(a.from).toEqual({
      address: "alice@example.org",
      domain: "example.org",
      displayName: "Alice",
      addresses: ["alice@example.org"],
    });
    expect(["temperror", "none"]).toContain(a.auth.spf);
    // rspamd answers symbols, not fields: the relayed copy's Authentication-Results is written from them.
    expect(a.authenticationHeaders).toBe(
      `Authentication-Results: mx.contoso.example;\r\n spf=${a.auth.spf} smtp.mailfrom=alice@example.org;\r\n` +
        ` dkim=${a.auth.dkim};\r\n dmarc=${a.auth.dmarc} header.from=example.org;\r\n arc=${a.auth.arc}\r\n`,
    );
    expect(a.signals.some((s) => s.id.includes(".rspamd."))).toBe(true);
    expect(a.malware).toBe(false);
    expect(decide(a, { org: [], personal: [] }).action).toBe("deliver");
  });

  it("holds GTUBE, rspamd's test spam, with rspamd's reject action mapped onto our threshold", async (ctx) => {
    if (!rspamd.ok) return ctx.skip();
    const a = await scanner().assess(await scanInput(buildRaw({ subject: "test", text: `${GTUBE}\r\n` })));
    expect(hasSignal(a, "content.rspamd.GTUBE")).toBe(true);
    expect(a.signals.find((s) => s.id === "content.rspamd.GTUBE")?.label).toContain("action reject");
    expect(a.score).toBeGreaterThanOrEqual(5);
    expect(decide(a, { org: [], personal: [] })).toMatchObject({ action: "hold", reason: "spam" });
  });

  it("marks an executable attachment as malware, held even for a permitted sender", async (ctx) => {
    if (!rspamd.ok) return ctx.skip();
    const raw = buildRaw({
      from: "ap@partner.example",
      text: "invoice",
      attachments: [{ filename: "invoice.exe", content: PE }],
    });
    const a = await scanner().assess(await scanInput(raw));
    expect(a.signals.some((s) => s.id.startsWith("attachment.rspamd.MIME_BAD_EXTENSION"))).toBe(true);
    expect(a.malware).toBe(true);
    const d = decide(a, {
      org: [{ id: "o1", scope: "tenant", kind: "permit", pattern: "partner.example" }],
      personal: [],
    });
    expect(d).toMatchObject({ action: "hold", reason: "dangerous_attachment" });
  });
});

describe("RspamdScanner when rspamd is unreachable", () => {
  const DEAD = "http://127.0.0.1:1";

  it("falls back to the built-in engine and says so", async () => {
    const raw = buildRaw({ html: '<a href="http://192.0.2.9/login">https://contoso.com</a>' });
    const a = await new RspamdScanner({ url: DEAD, fallback: new BuiltinScanner(), timeoutMs: 2000 }).assess(
      await scanInput(raw),
    );
    expect(hasSignal(a, "policy.rspamd_unavailable")).toBe(true);
    expect(hasSignal(a, "url.ip_host")).toBe(true);
  });

  it("without a fallback returns a neutral assessment instead of throwing", async () => {
    const a = await new RspamdScanner({ url: DEAD, timeoutMs: 2000 }).assess(await scanInput(buildRaw({})));
    expect(a.auth.spf).toBe("temperror");
    expect(hasSignal(a, "policy.rspamd_unavailable")).toBe(true);
  });

  it("is chosen by createScanner only when RSPAMD_URL is set", () => {
    expect(createScanner({ RSPAMD_URL: "http://127.0.0.1:11333" })).toBeInstanceOf(RspamdScanner);
    expect(createScanner({})).toBeInstanceOf(BuiltinScanner);
    expect(createScanner({ RSPAMD_URL: "  " })).toBeInstanceOf(BuiltinScanner);
  });
});

describe("rspamd symbol mapping", () => {
  it("reads authentication results and families from symbol names", () => {
    const sym = (name: string) => ({ name, score: 0 });
    expect(
      authFromSymbols({
        R_SPF_FAIL: sym("R_SPF_FAIL"),
        R_DKIM_ALLOW: sym("R_DKIM_ALLOW"),
        DMARC_POLICY_REJECT: sym("DMARC_POLICY_REJECT"),
      }),
    ).toEqual({ spf: "fail", dkim: "pass", dmarc: "fail", arc: "none" });
    expect(familyOfSymbol("R_SPF_FAIL")).toBe("auth");
    expect(familyOfSymbol("PHISHING")).toBe("url");
    expect(familyOfSymbol("MIME_DOUBLE_BAD_EXTENSION")).toBe("attachment");
    expect(familyOfSymbol("BAYES_SPAM")).toBe("content");
  });
});
