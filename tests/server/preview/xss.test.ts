import { describe, expect, it } from "vitest";
import { sanitizeEmailHtml, sanitizeEmailHtmlWithReport } from "../../../server/preview";
import { findXssVectors } from "./xss-checker";
import { fillPayload, XSS_PAYLOADS } from "./xss-payloads";

const HIT = "https://attacker.example/hit";
const cases = XSS_PAYLOADS.map((payload) => [payload.name, fillPayload(payload.html, HIT)] as const);

describe("sanitizeEmailHtml against the XSS payload list", () => {
  it("has at least 100 distinct payloads", () => {
    expect(new Set(XSS_PAYLOADS.map((payload) => payload.html)).size).toBeGreaterThanOrEqual(100);
    expect(new Set(XSS_PAYLOADS.map((payload) => payload.name)).size).toBe(XSS_PAYLOADS.length);
  });

  it.each(cases)("%s: nothing executable or loading survives (images blocked)", (_name, html) => {
    const output = sanitizeEmailHtml(html, { allowRemoteImages: false });
    expect(findXssVectors(output, { allowRemoteImages: false })).toEqual([]);
    expect(output).not.toMatch(/\ssrc="https?:/);
  });

  it.each(cases)("%s: nothing executable survives (images allowed)", (_name, html) => {
    const output = sanitizeEmailHtml(html, { allowRemoteImages: true });
    expect(findXssVectors(output, { allowRemoteImages: true })).toEqual([]);
  });

  it("never keeps the PWN script text in an attribute", () => {
    for (const [, html] of cases) {
      const output = sanitizeEmailHtml(html, { allowRemoteImages: true });
      expect(output).not.toMatch(/="[^"]*__mwran/);
    }
  });
});

describe("the XSS checker itself", () => {
  const identity = (html: string): string => html;

  it("flags a known-dangerous payload passed through a non-sanitizing identity function", () => {
    const problems = findXssVectors(identity(fillPayload("<img src=x onerror=PWN>", HIT)), {
      allowRemoteImages: false,
    });
    expect(problems).toContain("onerror handler on <img>");
  });

  it.each([
    ["script element", "<script> element"],
    ["a javascript href", "href with scheme javascript: on <a>"],
    ["a tab inside scheme", "href with scheme javascript: on <a>"],
    ["svg onload", "<svg> element"],
    ["css expression", "style contains expression("],
    ["css remote background image", "style loads url("],
    ["meta refresh javascript", "<meta> element"],
    ["base href remote", "<base> element"],
    ["form action", "<form> element"],
    ["remote img", "src with scheme https: on <img>"],
    ["img srcset", "srcset attribute on <img>"],
    ["anchor relative to our origin", "relative or unparseable href"],
  ])("flags the raw %s payload (%s)", (name, expected) => {
    const payload = XSS_PAYLOADS.find((candidate) => candidate.name === name);
    expect(payload).toBeDefined();
    const problems = findXssVectors(identity(fillPayload(payload?.html ?? "", HIT)), {
      allowRemoteImages: false,
    });
    expect(problems.join("\n")).toContain(expected);
  });

  it("flags most raw payloads, so a passing run means the sanitizer did the work", () => {
    const flagged = cases.filter(
      ([, html]) => findXssVectors(identity(html), { allowRemoteImages: false }).length > 0,
    );
    expect(flagged.length / cases.length).toBeGreaterThan(0.9);
  });

  it("passes ordinary safe mail", () => {
    const output = sanitizeEmailHtmlWithReport(
      '<table><tr><td style="color:#333;padding:4px">Hi <a href="https://example.com/">example.com</a></td></tr></table>',
      { allowRemoteImages: false },
    ).html;
    expect(findXssVectors(output, { allowRemoteImages: false })).toEqual([]);
  });
});
