import fs from "node:fs";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";

const require = createRequire(import.meta.url);
/** axe-core's browser build, injected into the page under test. */
const AXE_SOURCE = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** One axe finding, reduced to what a failure message needs. */
export interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

interface AxeRunResult {
  violations: { id: string; impact?: string | null; help: string; nodes: { target: unknown[] }[] }[];
}

/**
 * Runs axe-core (WCAG 2.x A/AA and best practices) on the page's current state and returns every violation.
 * Message previews are sandboxed srcdoc frames holding the sender's HTML (no scripts can run there, and
 * their content is not ours), so frames are not entered; the frame elements themselves are still checked.
 */
export async function axeViolations(page: Page): Promise<AxeFinding[]> {
  const loaded = await page.evaluate(
    () => typeof (window as unknown as { axe?: unknown }).axe !== "undefined",
  );
  // Evaluated through the DevTools protocol: the page's CSP (script-src 'self') rightly refuses an injected
  // inline <script> (page.addScriptTag), and the scan must not need a weaker CSP than production.
  if (!loaded) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<unknown> } })
      .axe;
    return axe.run(document, { iframes: false, resultTypes: ["violations"] });
  });
  return (result as AxeRunResult).violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact ?? null,
    help: violation.help,
    targets: violation.nodes.map((node) => node.target.map(String).join(" ")),
  }));
}

/** The violations that block: impact serious or critical. */
export function seriousOrCritical(findings: AxeFinding[]): AxeFinding[] {
  return findings.filter((finding) => finding.impact === "serious" || finding.impact === "critical");
}
