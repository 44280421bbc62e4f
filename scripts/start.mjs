// `npm start`: build the add-in and portal when their sources or the settings baked into them changed, then run the
// server.
import { spawnSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { buildStamp } from "./build-stamp.mjs";
import { serverNodeArgs } from "./server-args.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const stampFile = path.join(root, "dist", ".build-stamp");

const stamp = buildStamp(root, process.env);
const built = fs.existsSync(stampFile) && fs.readFileSync(stampFile, "utf8") === stamp;
if (!built && fs.existsSync(path.join(root, "webpack.config.js"))) {
  const build = spawnSync("npx", ["webpack", "--mode", "production"], { cwd: root, stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
  fs.mkdirSync(path.dirname(stampFile), { recursive: true });
  fs.writeFileSync(stampFile, stamp);
}
const server = spawn(process.execPath, serverNodeArgs(path.join(root, "server", "main.ts"), process.env), {
  cwd: root,
  stdio: "inherit",
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.kill(signal));
server.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
