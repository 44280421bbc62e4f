/** Types of build-stamp.mjs (plain JavaScript, since `npm start` runs it before tsx is loaded). */
export declare const BUILD_INPUTS: string[];
/** The environment settings webpack.config.js bakes into the build. */
export declare const BUILD_SETTINGS: string[];
/** The stamp of a build from these sources with these settings. */
export declare function buildStamp(root: string, env: Record<string, string | undefined>): string;
/** Where a production build of dist/ records its stamp, relative to the checkout. */
export declare const STAMP_FILE: string;
/** Builds dist/ in production mode and records its stamp; webpack's exit status. */
export declare function buildProduction(root: string, env: Record<string, string | undefined>): number;
/** Feeds the files and folders `parts` (paths from the checkout) into `hash`, as both build stamps do. */
export declare function hashInputs(
  root: string,
  parts: readonly string[],
  hash: import("node:crypto").Hash,
): void;
