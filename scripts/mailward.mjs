// `npm run mailward -- <command>`: the command line (server/cli/main.ts), compiled first when its sources changed, as
// `npm start` does. It runs in this process: the compiled cli.js reads its command from process.argv.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ensureServerBuild } from "./server-build.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const serverDir = await ensureServerBuild(root);
process.setSourceMapsEnabled(true);
await import(pathToFileURL(path.join(serverDir, "cli.js")).href);
