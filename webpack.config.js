// @ts-check
/**
 * Builds the Outlook add-in and the portal into dist/ (DESIGN §2, §4, §8):
 *   taskpane.html + portal.html  the React UI (one bundle; it detects Outlook vs. the portal at run time)
 *   commands.html + commands.js  the UI-less function file (commands.js also serves Outlook's JS-only runtime)
 *   confirm.html, auth-dialog.html  Office dialogs (report confirmation, sign-in fallback)
 *   assets/, manifest.xml        icons, and the manifest with dev URLs rewritten to MAILWARD_PUBLIC_URL
 *   *.br, *.gz                   (production) each text file precompressed, which the server sends to browsers that
 *                                accept it (server/http/static-files.ts): compressed once here, never per request
 * Environment: MAILWARD_PUBLIC_URL, MAILWARD_ENTRA_CLIENT_ID, MAILWARD_ENTRA_AUTHORITY, MAILWARD_API_SCOPE.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { constants as zlibConstants } from "node:zlib";
import CompressionPlugin from "compression-webpack-plugin";
import CopyWebpackPlugin from "copy-webpack-plugin";
import { EsbuildPlugin } from "esbuild-loader";
import HtmlWebpackPlugin from "html-webpack-plugin";
import webpack from "webpack";
import { DEV_ORIGIN, rewriteManifest } from "./scripts/manifest-rewrite.js";
import { PreloadFirstViewPlugin } from "./scripts/preload-first-view.js";
import { BundleSizePlugin } from "./scripts/print-bundle-sizes.js";

const root = path.dirname(fileURLToPath(import.meta.url));
const TARGET = "es2020";

/** Entries whose file name must stay stable (the manifest points at commands.js). */
const STABLE_NAMES = new Set(["commands"]);

/** Text files worth precompressing: scripts, styles, pages, the manifest and the SVG icons. */
const COMPRESSIBLE = /\.(?:js|css|html|svg|xml)$/;

/** Brotli (best quality) and gzip (level 9) copies of each text file, beside it, for the server to send as they are. */
function precompressed() {
  return [
    new CompressionPlugin({
      test: COMPRESSIBLE,
      algorithm: "brotliCompress",
      compressionOptions: {
        params: { [zlibConstants.BROTLI_PARAM_QUALITY]: zlibConstants.BROTLI_MAX_QUALITY },
      },
      filename: "[path][base].br",
      threshold: 1024,
      minRatio: 0.8,
    }),
    new CompressionPlugin({
      test: COMPRESSIBLE,
      algorithm: "gzip",
      compressionOptions: { level: 9 },
      filename: "[path][base].gz",
      threshold: 1024,
      minRatio: 0.8,
    }),
  ];
}

/**
 * @param {string} name output html file
 * @param {string[]} chunks entries it loads
 * @param {boolean} production
 */
function page(name, chunks, production) {
  return new HtmlWebpackPlugin({
    filename: `${name}.html`,
    template: path.join(root, "addin/html", `${name}.html`),
    chunks,
    inject: "body",
    scriptLoading: "defer",
    minify: production ? { collapseWhitespace: true, removeComments: true, minifyCSS: true } : false,
  });
}

/**
 * @param {Record<string, string | boolean>} _env
 * @param {{ mode?: "production" | "development" | "none" }} argv
 * @returns {import("webpack").Configuration}
 */
export default (_env, argv) => {
  const production = argv.mode !== "development";
  const publicUrl = process.env.MAILWARD_PUBLIC_URL || DEV_ORIGIN;
  const publicPath = new URL(publicUrl).pathname.replace(/\/*$/, "/");
  const define = (/** @type {string} */ value) => JSON.stringify(value);
  return {
    mode: production ? "production" : "development",
    context: root,
    target: ["web", TARGET],
    entry: {
      taskpane: "./addin/taskpane/index.tsx",
      commands: "./addin/commands/index.ts",
      confirm: "./addin/dialogs/confirm.ts",
      "auth-dialog": "./addin/dialogs/auth-dialog.ts",
    },
    output: {
      path: path.join(root, "dist"),
      publicPath,
      filename: (pathData) =>
        STABLE_NAMES.has(pathData.chunk?.name ?? "") || !production
          ? "[name].js"
          : "[name].[contenthash:8].js",
      chunkFilename: production ? "chunks/[name].[contenthash:8].js" : "chunks/[name].js",
      clean: true,
    },
    resolve: { extensions: [".tsx", ".ts", ".js"] },
    module: {
      rules: [
        {
          test: /\.[cm]?[jt]sx?$/,
          exclude: /node_modules/,
          loader: "esbuild-loader",
          options: { target: TARGET, jsx: "automatic" },
        },
      ],
    },
    optimization: {
      minimizer: [new EsbuildPlugin({ target: TARGET, legalComments: "none" })],
      // Only the task pane's lazy views are split; commands.js must stay one self-contained file.
      splitChunks: { chunks: "async" },
    },
    devtool: production ? false : "eval-cheap-module-source-map",
    performance: { hints: false },
    stats: "errors-warnings",
    plugins: [
      new webpack.DefinePlugin({
        "process.env.MAILWARD_PUBLIC_URL": define(publicUrl),
        "process.env.MAILWARD_ENTRA_CLIENT_ID": define(process.env.MAILWARD_ENTRA_CLIENT_ID ?? ""),
        "process.env.MAILWARD_ENTRA_AUTHORITY": define(process.env.MAILWARD_ENTRA_AUTHORITY ?? ""),
        "process.env.MAILWARD_API_SCOPE": define(process.env.MAILWARD_API_SCOPE ?? ""),
      }),
      page("taskpane", ["taskpane"], production),
      page("portal", ["taskpane"], production),
      page("commands", ["commands"], production),
      // Outlook's task pane opens on This message; the portal on the held list (view-loaders.ts, likelyFirstView).
      new PreloadFirstViewPlugin({ pages: { "taskpane.html": "view-message", "portal.html": "view-held" } }),
      page("confirm", ["confirm"], production),
      page("auth-dialog", ["auth-dialog"], production),
      new CopyWebpackPlugin({
        patterns: [
          { from: "addin/assets", to: "assets" },
          {
            from: "manifest.xml",
            to: "manifest.xml",
            transform: (content) =>
              rewriteManifest(content.toString("utf8"), {
                publicUrl: process.env.MAILWARD_PUBLIC_URL,
                clientId: process.env.MAILWARD_ENTRA_CLIENT_ID,
              }),
          },
        ],
      }),
      ...(production ? precompressed() : []),
      new BundleSizePlugin({ entry: "taskpane", budgetKb: 250 }),
    ],
  };
};
