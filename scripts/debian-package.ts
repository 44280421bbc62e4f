import { spawnSync } from "node:child_process";

/** Whether a Debian package's tool is there, and if not, why it could not be installed. */
export type PackageState = { ok: true } | { ok: false; reason: string };

/**
 * Makes sure a tool from a Debian package is present, installing the package with apt-get when it is
 * missing and we are root (tests and benchmarks fetch their own tools: the project must install what it
 * needs by package name). Retries once after `apt-get update`, for a machine whose lists are stale.
 */
export function ensureDebianPackage(
  packageName: string,
  present: () => boolean,
  log: (line: string) => void = () => undefined,
): PackageState {
  if (present()) return { ok: true };
  if (process.getuid?.() !== 0)
    return { ok: false, reason: `${packageName} is not installed and this user cannot run apt-get` };
  log(`${packageName} is missing: apt-get install -y ${packageName}`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  // Two test files may need a package at once: the second waits for the first's dpkg lock instead of failing.
  const run = (args: string[]) =>
    spawnSync("apt-get", ["-o", "DPkg::Lock::Timeout=240", ...args], {
      env,
      stdio: "ignore",
      timeout: 300_000,
    }).status === 0;
  if (!run(["install", "-y", packageName])) {
    run(["update"]);
    run(["install", "-y", packageName]);
  }
  return present()
    ? { ok: true }
    : { ok: false, reason: `${packageName} is still missing after apt-get install` };
}

/** Whether a command is on the PATH. */
export function hasCommand(name: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${name}`], { stdio: "ignore" }).status === 0;
}
