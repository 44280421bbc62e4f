/**
 * A webpack plugin that names, in a page's <head>, the scripts of the view that page opens on, as
 * `<link rel="preload" as="script">`: the browser fetches them beside the initial bundle instead of after it has been
 * downloaded, compiled and run (DESIGN §8, task pane interactive ≤ 1 s on a cold load). The view's code is still
 * loaded by its dynamic import (addin/taskpane/view-loaders.ts), which then finds the files in the cache.
 */
import HtmlWebpackPlugin from "html-webpack-plugin";

const PLUGIN = "PreloadFirstViewPlugin";

/**
 * The script files of a named chunk group (a dynamic import with a webpackChunkName), or an error naming it: a
 * renamed or removed view must fail the build, not quietly stop preloading.
 * @param {import("webpack").Compilation} compilation
 * @param {string} group
 * @returns {string[]}
 */
export function chunkGroupScripts(compilation, group) {
  const chunkGroup = compilation.namedChunkGroups.get(group);
  if (!chunkGroup) throw new Error(`${PLUGIN}: no chunk group named "${group}" (a view's webpackChunkName)`);
  return chunkGroup.chunks.flatMap((chunk) => [...chunk.files].filter((file) => file.endsWith(".js")));
}

/** Adds each page's first view's scripts to its <head> as preloads. */
export class PreloadFirstViewPlugin {
  /** @param {{ pages: Record<string, string> }} options page file name (taskpane.html) → chunk group name */
  constructor(options) {
    this.pages = options.pages;
  }

  /** @param {import("webpack").Compiler} compiler */
  apply(compiler) {
    compiler.hooks.thisCompilation.tap(PLUGIN, (compilation) => {
      HtmlWebpackPlugin.getHooks(compilation).alterAssetTagGroups.tap(PLUGIN, (data) => {
        const group = this.pages[data.outputName];
        if (!group) return data;
        const publicPath = compilation.getPath(compilation.outputOptions.publicPath ?? "");
        for (const file of chunkGroupScripts(compilation, group))
          data.headTags.push(
            HtmlWebpackPlugin.createHtmlTagObject("link", {
              rel: "preload",
              as: "script",
              href: `${publicPath}${file}`,
              // Behind the initial bundle, which the page needs first: not ahead of it as a preload would be by default.
              fetchpriority: "low",
            }),
          );
        return data;
      });
    });
  }
}
