// @vitest-environment node
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, "../..");
const manifest = readFileSync(join(repoRoot, "manifest.xml"), "utf8");
const workDir = mkdtempSync(join(tmpdir(), "mailward-manifest-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

async function validate(xml: string | null): Promise<{ code: number; output: string }> {
  const args = [
    join(repoRoot, "node_modules/tsx/dist/cli.mjs"),
    join(repoRoot, "scripts/validate-manifest.ts"),
  ];
  if (xml !== null) {
    const path = join(workDir, `manifest-${Math.random().toString(36).slice(2)}.xml`);
    writeFileSync(path, xml);
    args.push(path);
  }
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd: repoRoot });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

function breakIt(search: string | RegExp, replacement: string): string {
  const broken = manifest.replace(search, replacement);
  expect(broken).not.toBe(manifest);
  return broken;
}

describe("npm run validate:manifest", () => {
  it("passes on the real manifest.xml (default path)", async () => {
    const { code, output } = await validate(null);
    expect(output).toContain("is valid");
    expect(code).toBe(0);
  });

  it("fails on a schema violation: WebApplicationInfo moved before Resources", async () => {
    const webApp =
      /\s*<!-- Nested app authentication[\s\S]*?<\/WebApplicationInfo>/.exec(manifest)?.[0] ?? "";
    const withoutWebApp = manifest.replace(webApp, "");
    const lastResources = withoutWebApp.lastIndexOf("<Resources>");
    const broken =
      withoutWebApp.slice(0, lastResources) + webApp.trim() + "\n" + withoutWebApp.slice(lastResources);
    const { code, output } = await validate(broken);
    expect(code).toBe(1);
    expect(output).toMatch(/schema: .*Element .*Resources.: This element is not expected/);
  });

  it("fails when a resid does not resolve", async () => {
    const { code, output } = await validate(
      breakIt('<Label resid="Block.Label"/>', '<Label resid="Block.Missing"/>'),
    );
    expect(code).toBe(1);
    expect(output).toContain('resid "Block.Missing" on <Label> does not resolve');
  });

  it("fails on a plain-http URL", async () => {
    const { code, output } = await validate(
      breakIt(
        'DefaultValue="https://localhost:3000/taskpane.html"/>\n',
        'DefaultValue="http://localhost:3000/taskpane.html"/>\n',
      ),
    );
    expect(code).toBe(1);
    expect(output).toContain('URL "http://localhost:3000/taskpane.html" is not https');
  });

  it("fails on a duplicate control id, a string over 125 characters and a missing icon", async () => {
    let broken = breakIt('id="mailwardPermitSender"', 'id="mailwardBlockSender"');
    broken = broken.replace('DefaultValue="Block sender"', `DefaultValue="${"x".repeat(126)}"`);
    broken = broken.replace("/assets/icon-80.png", "/assets/icon-81.png");
    const { code, output } = await validate(broken);
    expect(code).toBe(1);
    expect(output).toContain('id "mailwardBlockSender" is already used');
    expect(output).toContain('ShortStrings "Block.Label" is 126 characters; the limit is 125');
    expect(output).toContain("icon https://localhost:3000/assets/icon-81.png has no file on disk");
  });

  it("fails when an icon file has the wrong size or a FunctionName is not a registered command", async () => {
    const broken = breakIt(
      '<bt:Image size="16" resid="Icon.16x16"/>',
      '<bt:Image size="16" resid="Icon.32x32"/>',
    ).replace("<FunctionName>permitSender</FunctionName>", "<FunctionName>permitEveryone</FunctionName>");
    const { code, output } = await validate(broken);
    expect(code).toBe(1);
    expect(output).toMatch(/icon-32\.png is 32x32, but line \d+ declares 16x16/);
    expect(output).toContain('FunctionName "permitEveryone" is not registered by addin/commands');
  });

  it("fails on XML that is not well-formed", async () => {
    const { code, output } = await validate(manifest.replace("</OfficeApp>", ""));
    expect(code).toBe(1);
    expect(output).toContain("not well-formed XML");
  });
});
