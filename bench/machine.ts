import os from "node:os";

/** The 1, 5 and 15 minute load averages, as the benches print them beside their figures ("1.5 0.5 0.2"). */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
}
