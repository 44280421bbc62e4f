// `npm start`: build the add-in and portal when their sources or the settings baked into them changed, compile the
// server when its sources changed, then run it.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { buildProduction, buildStamp, STAMP_FILE } from "./build-stamp.mjs";
import { serverNodeArgs } from "./server-args.mjs";
import { ensureServerBuild } from "./server-build.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const stampFile = path.join(root, STAMP_FILE);

const built =
  fs.existsSync(stampFile) && fs.readFileSync(stampFile, "utf8") === buildStamp(root, process.env);
if (!built && fs.existsSync(path.join(root, "webpack.config.js"))) {
  const status = buildProduction(root, process.env);
  if (status !== 0) process.exit(status);
}
const serverDir = await ensureServerBuild(root);
const server = spawn(process.execPath, serverNodeArgs(path.join(serverDir, "main.js"), process.env), {
  cwd: root,
  stdio: "inherit",
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.kill(signal));
server.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
