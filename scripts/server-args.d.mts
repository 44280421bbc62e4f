/** Types of server-args.mjs (plain JavaScript, since `npm start` runs it before tsx is loaded). */
export declare const SEMI_SPACE_MB: number;
/** V8 flags the server runs with for fewer major GCs. */
export declare const GC_FLAGS: string[];
/** How node runs an entry file: compiled JavaScript with its source maps, TypeScript through tsx. */
export declare function entryNodeArgs(entry: string): string[];
/** The node arguments `npm start` runs the server with. */
export declare function serverNodeArgs(entry: string, env: Record<string, string | undefined>): string[];
