/** Types of server-build.mjs (plain JavaScript, since `npm start` runs it before the server is compiled). */
export declare const SERVER_ENTRIES: Record<"main" | "cli" | "scan-worker", string>;
/** What the compiled server is made from. */
export declare const SERVER_BUILD_INPUTS: string[];
/** Where `npm start` keeps the compiled server, relative to the checkout. */
export declare const SERVER_BUILD_DIR: string;
/** The stamp of a compiled server from these sources. */
export declare function serverBuildStamp(root: string): string;
/**
 * Compiles the server (or other entries, by output name: a bench with the server it runs) into `outdir`, replacing
 * what was there whole; writes `stamp` into it when given.
 */
export declare function compileServer(
  root: string,
  outdir: string,
  stamp?: string,
  entries?: Record<string, string>,
): Promise<void>;
/** Compiles the server into build/server when its sources changed; the folder. */
export declare function ensureServerBuild(root: string): Promise<string>;
