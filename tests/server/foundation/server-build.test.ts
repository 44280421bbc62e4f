import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  ensureServerBuild,
  SERVER_BUILD_DIR,
  SERVER_ENTRIES,
  serverBuildStamp,
} from "../../../scripts/server-build.mjs";
import { tempDir } from "../../support/temp";

/** A small stand-in for a checkout: each entry point a module that imports one shared file. */
function fakeCheckout(): string {
  const checkout = tempDir("mailward-server-build-");
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(checkout, file)), { recursive: true });
    fs.writeFileSync(path.join(checkout, file), text);
  };
  write("shared/greeting.ts", 'export const greeting: string = "hello";\n');
  for (const [name, source] of Object.entries(SERVER_ENTRIES)) {
    const toShared = path.relative(path.dirname(source), "shared/greeting").split(path.sep).join("/");
    write(
      source,
      `import { greeting } from "./${toShared}";\nconsole.log(greeting, ${JSON.stringify(name)});\n`,
    );
  }
  write("package-lock.json", "{}\n");
  return checkout;
}

// npm start and npm run mailward run the compiled server, compiled again only when its sources changed.
describe("the compiled server of npm start", () => {
  it("compiles each entry point into JavaScript that runs, and keeps it while the sources are unchanged", async () => {
    const checkout = fakeCheckout();
    const outdir = await ensureServerBuild(checkout);
    expect(outdir).toBe(path.join(checkout, SERVER_BUILD_DIR));
    for (const name of Object.keys(SERVER_ENTRIES)) {
      const compiled = fs.readFileSync(path.join(outdir, `${name}.js`), "utf8");
      expect(compiled).not.toMatch(/: string/);
      expect(fs.existsSync(path.join(outdir, `${name}.js.map`))).toBe(true);
    }
    const main = path.join(outdir, "main.js");
    expect(execFileSync(process.execPath, [main], { encoding: "utf8" })).toBe("hello main\n");
    const firstBuild = fs.statSync(main).mtimeMs;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await ensureServerBuild(checkout);
    expect(fs.statSync(main).mtimeMs).toBe(firstBuild);

    fs.writeFileSync(
      path.join(checkout, "shared/greeting.ts"),
      'export const greeting: string = "edited";\n',
    );
    await ensureServerBuild(checkout);
    const rebuilt = fs.readdirSync(outdir).filter((name) => name.endsWith(".js"));
    const text = rebuilt.map((name) => fs.readFileSync(path.join(outdir, name), "utf8")).join("\n");
    expect(text).toContain('"edited"');
    expect(text).not.toContain('"hello"');
    // The new build replaced the old one whole: no folder of either is left beside it.
    expect(fs.readdirSync(path.dirname(outdir))).toEqual([path.basename(outdir)]);
  });

  it("changes its stamp with the server's and the shared code's sources and the lockfile, not with other files", () => {
    const checkout = fakeCheckout();
    const before = serverBuildStamp(checkout);
    fs.mkdirSync(path.join(checkout, "addin"));
    fs.writeFileSync(path.join(checkout, "addin", "index.tsx"), "// the add-in has a build of its own\n");
    expect(serverBuildStamp(checkout)).toBe(before);
    for (const file of [SERVER_ENTRIES.main, "shared/greeting.ts", "package-lock.json"]) {
      const previous = serverBuildStamp(checkout);
      fs.appendFileSync(path.join(checkout, file), "// edited\n");
      expect(serverBuildStamp(checkout), file).not.toBe(previous);
    }
  });
});
