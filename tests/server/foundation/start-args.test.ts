import { describe, expect, it } from "vitest";
import { SEMI_SPACE_MB, serverNodeArgs } from "../../../scripts/server-args.mjs";

// npm start gives the server a larger young generation (measured by bench:ingest), unless the operator chose one.
describe("serverNodeArgs", () => {
  it("runs the compiled server with its source maps and 64 MB semi-spaces", () => {
    expect(serverNodeArgs("/srv/build/server/main.js", {})).toEqual([
      `--max-semi-space-size=${SEMI_SPACE_MB}`,
      "--enable-source-maps",
      "/srv/build/server/main.js",
    ]);
    expect(SEMI_SPACE_MB).toBe(64);
  });

  it("runs a TypeScript entry through tsx", () => {
    expect(serverNodeArgs("/srv/server/main.ts", {})).toEqual([
      `--max-semi-space-size=${SEMI_SPACE_MB}`,
      "--import",
      "tsx",
      "/srv/server/main.ts",
    ]);
  });

  it("leaves the setting to an operator who put one in NODE_OPTIONS", () => {
    expect(
      serverNodeArgs("main.ts", { NODE_OPTIONS: "--max-old-space-size=4096 --max-semi-space-size=16" }),
    ).toEqual(["--import", "tsx", "main.ts"]);
    expect(serverNodeArgs("main.ts", { NODE_OPTIONS: "--max-old-space-size=4096" })[0]).toBe(
      `--max-semi-space-size=${SEMI_SPACE_MB}`,
    );
  });
});
