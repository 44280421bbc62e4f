/**
 * `npm run validate:manifest [path]`: validates the add-in manifest offline. First xmllint against the
 * Office XSDs in ../shared/office-schemas (or $MAILWARD_OFFICE_SCHEMAS), then the custom checks in
 * manifest-checks.ts. Prints every problem with its line and exits 1 if there is any.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { COMMAND_FUNCTION_NAMES } from "../addin/commands/names";
import { ensureDebianPackage, hasCommand } from "./debian-package";
import { checkManifest } from "./manifest-checks";
import { XmlSyntaxError } from "./manifest-xml";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The folder holding OfficeAppManifestV1_1.xsd and the files it imports. */
export function officeSchemasDir(): string {
  return resolve(process.env.MAILWARD_OFFICE_SCHEMAS ?? join(repoRoot, "..", "shared", "office-schemas"));
}

/** Runs xmllint against the Office XSDs (installing Debian's libxml2-utils when missing); returns its error lines (empty when valid). */
export function validateWithXsd(manifestPath: string, schemasDir: string): string[] {
  const schema = join(schemasDir, "OfficeAppManifestV1_1.xsd");
  if (!existsSync(schema)) return [`schema not found: ${schema} (set MAILWARD_OFFICE_SCHEMAS)`];
  const xmllint = ensureDebianPackage(
    "libxml2-utils",
    () => hasCommand("xmllint"),
    (line) => process.stderr.write(`${line}\n`),
  );
  if (!xmllint.ok)
    return [`cannot run xmllint (${xmllint.reason}); install it with: apt-get install -y libxml2-utils`];
  const result = spawnSync("xmllint", ["--noout", "--nonet", "--schema", schema, manifestPath], {
    encoding: "utf8",
  });
  if (result.error) {
    return [
      `cannot run xmllint (${result.error.message}); install it with: apt-get install -y libxml2-utils`,
    ];
  }
  if (result.status === 0) return [];
  return result.stderr
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.endsWith("fails to validate"));
}

function main(): number {
  const manifestPath = resolve(process.argv[2] ?? "manifest.xml");
  const shown = relative(process.cwd(), manifestPath) || manifestPath;
  if (!existsSync(manifestPath)) {
    process.stderr.write(`${shown}: no such file\n`);
    return 2;
  }
  const problems: string[] = validateWithXsd(manifestPath, officeSchemasDir()).map(
    (line) => `schema: ${line}`,
  );
  try {
    const custom = checkManifest(readFileSync(manifestPath, "utf8"), {
      manifestDir: dirname(manifestPath),
      repoRoot,
      functionNames: COMMAND_FUNCTION_NAMES,
    });
    problems.push(...custom.map((problem) => `${shown}:${problem.line}: ${problem.message}`));
  } catch (error) {
    if (!(error instanceof XmlSyntaxError)) throw error;
    problems.push(`${shown}: not well-formed XML: ${error.message}`);
  }
  if (problems.length > 0) {
    process.stderr.write(
      `${shown} is NOT valid (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n`,
    );
    for (const problem of problems) process.stderr.write(`  ${problem}\n`);
    return 1;
  }
  process.stdout.write(`${shown} is valid: Office XSD (xmllint) and Mailward checks passed\n`);
  return 0;
}

process.exitCode = main();
