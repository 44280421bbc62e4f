// `npm start`: build the add-in and portal when their sources changed, then run the server.
import { spawnSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { serverNodeArgs } from "./server-args.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const stampFile = path.join(root, "dist", ".build-stamp");

function hashTree(dir, hash) {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) hashTree(full, hash);
    else hash.update(entry.name).update(fs.readFileSync(full));
  }
}

const hash = crypto.createHash("sha256");
for (const part of ["addin", "shared", "manifest.xml", "webpack.config.js", "package-lock.json"]) {
  const full = path.join(root, part);
  if (fs.existsSync(full) && fs.statSync(full).isFile()) hash.update(fs.readFileSync(full));
  else hashTree(full, hash);
}
hash.update(process.env.MAILWARD_PUBLIC_URL ?? "");
const stamp = hash.digest("hex");
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
