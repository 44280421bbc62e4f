import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { GC_FLAGS, SEMI_SPACE_MB, serverNodeArgs } from "../../../scripts/server-args.mjs";

// npm start gives the server a larger young generation and fewer major GCs (measured by bench:ingest), unless the
// operator chose the young generation's size.
describe("serverNodeArgs", () => {
  it("runs the compiled server with its source maps, 64 MB semi-spaces and the GC flags", () => {
    expect(serverNodeArgs("/srv/build/server/main.js", {})).toEqual([
      `--max-semi-space-size=${SEMI_SPACE_MB}`,
      "--no-allocation-site-pretenuring",
      "--heap-growing-percent=200",
      "--enable-source-maps",
      "/srv/build/server/main.js",
    ]);
    expect(SEMI_SPACE_MB).toBe(64);
  });

  it("runs a TypeScript entry through tsx", () => {
    expect(serverNodeArgs("/srv/server/main.ts", {})).toEqual([
      `--max-semi-space-size=${SEMI_SPACE_MB}`,
      ...GC_FLAGS,
      "--import",
      "tsx",
      "/srv/server/main.ts",
    ]);
  });

  it("leaves the young generation's size to an operator who put one in NODE_OPTIONS", () => {
    expect(
      serverNodeArgs("main.ts", { NODE_OPTIONS: "--max-old-space-size=4096 --max-semi-space-size=16" }),
    ).toEqual([...GC_FLAGS, "--import", "tsx", "main.ts"]);
    expect(serverNodeArgs("main.ts", { NODE_OPTIONS: "--max-old-space-size=4096" })[0]).toBe(
      `--max-semi-space-size=${SEMI_SPACE_MB}`,
    );
  });

  it("gives bench:ingest the node flags npm start gives the server, so the bench measures what ships", () => {
    const manifest = JSON.parse(
      fs.readFileSync(path.resolve(__dirname, "../../../package.json"), "utf8"),
    ) as {
      scripts: Record<string, string>;
    };
    const bench = manifest.scripts["bench:ingest"]?.split(" ") ?? [];
    expect(bench[0]).toBe("node");
    expect(bench.slice(1, -1)).toEqual(serverNodeArgs("scripts/bench-ingest.mjs", {}).slice(0, -2));
    expect(bench.at(-1)).toBe("scripts/bench-ingest.mjs");
  });
});
