import { describe, expect, it } from "vitest";
import { jsonbSafe } from "../../../../server/db/jsonb-safe";

describe("jsonbSafe", () => {
  it("replaces U+0000 and lone surrogates, high or low, wherever they are in a string", () => {
    expect(jsonbSafe("a\u0000b")).toBe("a\uFFFDb");
    expect(jsonbSafe("x\uD83D")).toBe("x\uFFFD");
    expect(jsonbSafe("\uDE00y")).toBe("\uFFFDy");
    expect(jsonbSafe("\uDE00\uD83D")).toBe("\uFFFD\uFFFD");
  });

  it("keeps paired surrogates and ordinary text as they are", () => {
    expect(jsonbSafe("Invoice 😀 ready")).toBe("Invoice 😀 ready");
    expect(jsonbSafe("ümlaut ₂ 中文")).toBe("ümlaut ₂ 中文");
  });

  it("cleans keys and values of nested objects and arrays, and leaves dates, numbers and null alone", () => {
    const at = new Date("2026-12-01T00:00:00Z");
    const cleaned = jsonbSafe({ "k\u0000": ["v\uD800", { deep: "\u0000" }], at, n: 3, none: null });
    expect(cleaned).toEqual({ "k\uFFFD": ["v\uFFFD", { deep: "\uFFFD" }], at, n: 3, none: null });
    expect(JSON.stringify(cleaned)).not.toMatch(/\\u0000|\\ud8/i);
  });
});
