import { describe, expect, it } from "vitest";
import { BuiltinScanner } from "../../../../server/mail/scan/scanner";
import { decide } from "../../../../server/mail/scan/decide";
import { EICAR_TEST_FILE, GTUBE, testStringSignals } from "../../../../server/mail/scan/test-strings";
import { buildRaw, hasSignal, scanInput } from "./support/messages";

// GTUBE and the EICAR test file: what an administrator sends first to see that the filter works.
const eicar = (padding = "") => Buffer.from(EICAR_TEST_FILE + padding, "latin1");
const ids = (body: { text?: string; html?: string }, files: Buffer[] = []) =>
  testStringSignals(
    body,
    files.map((content, i) => ({ filename: `f${i}.com`, content })),
  ).map((s) => s.id);

describe("the filter test strings", () => {
  it("finds GTUBE in the text or the HTML body", () => {
    expect(ids({ text: `Hello\n${GTUBE}\n` })).toEqual(["content.gtube"]);
    expect(ids({ html: `<p>${GTUBE}</p>` })).toEqual(["content.gtube"]);
    expect(ids({ text: GTUBE.slice(0, -1) })).toEqual([]);
  });

  it("finds the EICAR file as eicar.org defines it: the string first, then only whitespace, 128 bytes at most", () => {
    expect(ids({}, [eicar()])).toEqual(["attachment.eicar_test"]);
    expect(ids({}, [eicar("\r\n  \x1a")])).toEqual(["attachment.eicar_test"]);
    expect(ids({}, [Buffer.concat([Buffer.from("MZ"), eicar()])])).toEqual([]);
    expect(ids({}, [eicar(" and more")])).toEqual([]);
    expect(ids({}, [eicar(" ".repeat(61))])).toEqual([]);
    expect(ids({ text: EICAR_TEST_FILE })).toEqual([]);
  });

  it("holds GTUBE as spam and EICAR as malware, even from a sender the organisation permits", async () => {
    const scanner = new BuiltinScanner();
    const spam = await scanner.assess(await scanInput(buildRaw({ text: `${GTUBE}\r\n` })));
    expect(hasSignal(spam, "content.gtube")).toBe(true);
    expect(decide(spam, { org: [], personal: [] }).reason).toBe("spam");

    const virus = await scanner.assess(
      await scanInput(buildRaw({ attachments: [{ filename: "eicar.com", content: eicar() }] })),
    );
    expect(virus.malware).toBe(true);
    const permitted = decide(virus, {
      org: [{ id: "r1", scope: "tenant", kind: "permit", pattern: "example.org" }],
      personal: [],
    });
    expect(permitted).toMatchObject({ action: "hold", reason: "dangerous_attachment" });
  });
});
