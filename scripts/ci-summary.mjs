// Prints one "N passed, N failed, N skipped" line per vitest JSON report and a total, for CI logs.
import fs from "node:fs";

let total = { passed: 0, failed: 0, skipped: 0 };
for (const file of process.argv.slice(2)) {
  const report = JSON.parse(fs.readFileSync(file, "utf8"));
  const passed = report.numPassedTests ?? 0;
  const failed = report.numFailedTests ?? 0;
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  console.log(`${file}: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  total = { passed: total.passed + passed, failed: total.failed + failed, skipped: total.skipped + skipped };
}
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(total.failed > 0 ? 1 : 0);
