// @ts-check
/**
 * The product's webpack configuration (webpack.config.js) narrowed to the function file: the `commands` entry with
 * the same target, output, loader, minifier and build-time settings (DefinePlugin), without the HTML pages, the
 * copied assets and manifest, and the task pane's size check. tests/e2e/support/entra-commands-build.ts builds
 * commands.js with it in seconds rather than rebuilding the whole add-in a second time.
 */
import webpack from "webpack";
import productConfig from "../../../webpack.config.js";

/**
 * @param {Record<string, string | boolean>} env
 * @param {{ mode?: "production" | "development" | "none" }} argv
 * @returns {import("webpack").Configuration}
 */
export default (env, argv) => {
  const config = productConfig(env, argv);
  const entries = /** @type {Record<string, string>} */ (config.entry);
  if (!entries.commands) throw new Error("webpack.config.js has no `commands` entry");
  return {
    ...config,
    entry: { commands: entries.commands },
    plugins: (config.plugins ?? []).filter((plugin) => plugin instanceof webpack.DefinePlugin),
  };
};
