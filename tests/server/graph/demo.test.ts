import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { testEngine } from "../../support/db";
import { runNode } from "../../support/process";

const ROOT = path.resolve(__dirname, "../../..");
const DEMO = "scripts/demo-graph.ts";

// The demo always runs on an embedded PGlite of its own (scripts/demo-graph/stack.ts), whatever DATABASE_URL says: on
// the PostgreSQL pass it would run the same processes again (two child processes, ~60 s), so the PGlite pass runs it.
const demoEngineRun = testEngine() === "pglite";
if (!demoEngineRun)
  console.log("demo:graph tests skipped: the demo runs on its own PGlite, tested on the PGlite pass");

describe.runIf(demoEngineRun)("npm run demo:graph -- --once", () => {
  it("is the npm script that runs scripts/demo-graph.ts", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts["demo:graph"]).toBe(`node --import tsx ${DEMO}`);
  });

  it("runs the flow against the Entra and Graph fakes: the invoice is held in the hidden folder, clean mail delivered, all archived", async () => {
    const { code, stdout, stderr } = await runNode([DEMO, "--once"], {}, 150_000);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toMatch(/subscribed to Inbox and Sent Items/);
    expect(stdout).toMatch(/Mailward stored it and answered 202/);
    expect(stdout).toMatch(/verdict: held \(reason dangerous_attachment/);
    expect(stdout).toMatch(/quarantined: moved out of the Inbox to the hidden folder "Mailward Quarantine"/);
    expect(stdout).toMatch(
      /held +"Invoice overdue - action required" → adele@contoso\.test, hidden folder "Mailward Quarantine" \(dangerous_attachment\), archived/,
    );
    expect(stdout).toMatch(/delivered +"Quarterly numbers" → adele@contoso\.test, Inbox, archived/);
    expect(stdout).toMatch(/delivered +"Lunch on Friday\?" → megan@contoso\.test, Inbox, archived/);
    expect(stdout).toContain("All checks passed");
    // --once signs nobody in: the admin password is printed only when the demo stays up for the portal.
    expect(stdout).not.toMatch(/password/i);
  }, 160_000);

  it("exits 1 and names the step that did not happen when Graph refuses the quarantine move", async () => {
    const { code, stdout } = await runNode(
      [DEMO, "--once", "--deny-moves", "--step-timeout", "8"],
      {},
      150_000,
    );
    expect(code, stdout).toBe(1);
    expect(stdout).toMatch(
      /Demo FAILED: step did not happen within 8 s: move of "Invoice overdue - action required" to the hidden folder \(quarantine action \w+ after \d+ attempt\(s\): .*403/,
    );
    expect(stdout).not.toContain("All checks passed");
    expect(stdout).toContain("Stopped.");
  }, 160_000);
});
