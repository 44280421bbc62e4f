/**
 * A webpack plugin that prints every emitted bundle's size (raw and gzip) and the task pane's initial JS
 * (gzip) against the 250 KB target of DESIGN §8. Going over the budget fails the build.
 */
import { gzipSync } from "node:zlib";

const PLUGIN = "BundleSizePlugin";

/** @param {number} bytes */
function kb(bytes) {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

/** Prints bundle sizes after each build and enforces the initial-JS budget of one entry. */
export class BundleSizePlugin {
  /** @param {{ entry: string, budgetKb: number, out?: (line: string) => void }} options */
  constructor(options) {
    this.entry = options.entry;
    this.budgetKb = options.budgetKb;
    this.out = options.out ?? ((line) => process.stdout.write(`${line}\n`));
  }

  /** @param {import("webpack").Compiler} compiler */
  apply(compiler) {
    /** @type {string[]} */
    let report = [];
    compiler.hooks.thisCompilation.tap(PLUGIN, (compilation) => {
      compilation.hooks.processAssets.tap(
        { name: PLUGIN, stage: compiler.webpack.Compilation.PROCESS_ASSETS_STAGE_REPORT },
        () => {
          const entrypoint = compilation.entrypoints.get(this.entry);
          const initial = new Set(
            entrypoint ? entrypoint.getFiles().filter((file) => file.endsWith(".js")) : [],
          );
          const rows = compilation
            .getAssets()
            .filter((asset) => /\.(js|css|html)$/.test(asset.name))
            .map((asset) => {
              const buffer = asset.source.buffer();
              return { name: asset.name, raw: buffer.length, gzip: gzipSync(buffer, { level: 9 }).length };
            })
            .sort((a, b) => b.gzip - a.gzip);
          const width = Math.max(...rows.map((row) => row.name.length), 10);
          report = ["", `Bundle sizes (raw / gzip):`];
          for (const row of rows) {
            const note = initial.has(row.name) ? `  initial (${this.entry})` : "";
            report.push(
              `  ${row.name.padEnd(width)}  ${kb(row.raw).padStart(10)}  ${kb(row.gzip).padStart(10)}${note}`,
            );
          }
          const initialGzip = rows
            .filter((row) => initial.has(row.name))
            .reduce((sum, row) => sum + row.gzip, 0);
          const within = initialGzip <= this.budgetKb * 1024;
          report.push(
            `Task pane initial JS: ${kb(initialGzip)} gzip in ${initial.size} file(s); target ≤ ${this.budgetKb} KB: ${within ? "OK" : "OVER BUDGET"}`,
          );
          if (!within) {
            compilation.errors.push(
              new compiler.webpack.WebpackError(
                `${this.entry} initial JS is ${kb(initialGzip)} gzip, over ${this.budgetKb} KB`,
              ),
            );
          }
        },
      );
    });
    compiler.hooks.done.tap(PLUGIN, () => {
      for (const line of report) this.out(line);
    });
  }
}
