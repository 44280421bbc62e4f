import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUILD_INPUTS, BUILD_SETTINGS, buildStamp } from "../../../scripts/build-stamp.mjs";

const ROOT = path.resolve(__dirname, "../../..");
let checkout: string;

beforeAll(() => {
  // A small stand-in for a checkout: one file per input, so a stamp is quick and each input can be changed.
  checkout = fs.mkdtempSync(path.join(os.tmpdir(), "mailward-stamp-"));
  for (const input of BUILD_INPUTS) {
    const file = path.extname(input) ? path.join(checkout, input) : path.join(checkout, input, "index.ts");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `// ${input}\n`);
  }
});
afterAll(() => {
  fs.rmSync(checkout, { recursive: true, force: true });
});

// npm start rebuilds the add-in when the stamp of its sources and baked-in settings differs from the last build's.
describe("the build stamp of npm start", () => {
  it("changes with each setting webpack bakes in, and not with other settings", () => {
    const base = { MAILWARD_PUBLIC_URL: "https://mailward.contoso.test" };
    const before = buildStamp(checkout, base);
    expect(buildStamp(checkout, { ...base, MAILWARD_SMTP_PORT: "25" })).toBe(before);
    for (const name of BUILD_SETTINGS)
      expect(buildStamp(checkout, { ...base, [name]: "changed" }), name).not.toBe(before);
  });

  it("changes when a source changes", () => {
    const before = buildStamp(checkout, {});
    fs.writeFileSync(path.join(checkout, "addin", "index.ts"), "// edited\n");
    expect(buildStamp(checkout, {})).not.toBe(before);
  });

  it("covers every setting webpack.config.js reads", () => {
    const config = fs.readFileSync(path.join(ROOT, "webpack.config.js"), "utf8");
    const read = new Set([...config.matchAll(/process\.env\.([A-Z0-9_]+)/g)].map((match) => match[1]));
    expect(read.size).toBeGreaterThan(0);
    expect([...read].filter((name) => !BUILD_SETTINGS.includes(name ?? ""))).toEqual([]);
  });
});
