import { TARGET_MESSAGES_PER_SECOND } from "./ingest-ceiling";

/** The target's tail (DESIGN §8): the p99 of an SMTP transaction, in ms. */
export const TARGET_P99_MS = 100;

/** One measured run, as the target judges it. */
export interface TargetRun {
  /** The configuration's label; runs with the same label are repeats of one configuration. */
  label: string;
  perSecond: number;
  p99: number;
  /** Whether the bench's process had measured another run before this one (its JIT then warmer). */
  afterFirst: boolean;
}

/** How the repeats of one configuration fared against the target. */
export interface TargetSummary {
  label: string;
  runs: number;
  /** Runs that met both halves at once: the rate and the tail. */
  metBoth: number;
  medianPerSecond: number;
  medianP99: number;
  /** The same medians over the runs after the process's first, or null when there are none. */
  warm: { runs: number; metBoth: number; medianPerSecond: number; medianP99: number } | null;
}

/** Whether one run met both halves of the target in the same run. */
export function metTarget(run: Pick<TargetRun, "perSecond" | "p99">): boolean {
  return run.perSecond >= TARGET_MESSAGES_PER_SECOND && run.p99 <= TARGET_P99_MS;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/**
 * The repeats of each configuration summed up against the target: how many met both halves, and the medians. One run
 * on these boxes says little (the same command drifts by ±15 % within minutes, BENCHMARKS.md, "Ingest"), and the
 * process's first run is slower than the ones after it, so the warm runs are summed up apart as well.
 */
export function targetSummaries(runs: readonly TargetRun[]): TargetSummary[] {
  const byLabel = new Map<string, TargetRun[]>();
  for (const run of runs) byLabel.set(run.label, [...(byLabel.get(run.label) ?? []), run]);
  return [...byLabel].map(([label, repeats]) => {
    const warm = repeats.filter((r) => r.afterFirst);
    return {
      label,
      runs: repeats.length,
      metBoth: repeats.filter(metTarget).length,
      medianPerSecond: median(repeats.map((r) => r.perSecond)),
      medianP99: median(repeats.map((r) => r.p99)),
      warm:
        warm.length === 0
          ? null
          : {
              runs: warm.length,
              metBoth: warm.filter(metTarget).length,
              medianPerSecond: median(warm.map((r) => r.perSecond)),
              medianP99: median(warm.map((r) => r.p99)),
            },
    };
  });
}

/** One line for the bench's output: a repeated configuration's runs against the target. */
export function targetLine(s: TargetSummary): string {
  const all = `${s.metBoth} of ${s.runs} runs met both halves of the target; median ${s.medianPerSecond.toFixed(0)} msg/s, p99 ${s.medianP99.toFixed(1)} ms`;
  const warm = s.warm
    ? `; after the process's first run ${s.warm.metBoth} of ${s.warm.runs}, median ${s.warm.medianPerSecond.toFixed(0)} msg/s, p99 ${s.warm.medianP99.toFixed(1)} ms`
    : "";
  return `${s.label}: ${all}${warm}`;
}
