import { archiveFieldsOf } from "../../archive/parse";
import { parseHeadersOnly } from "../scan/index";
import { assessmentFromSignals } from "../scan/scoring";
import { senderOf } from "../scan/sender";
import { signal } from "../scan/weights";
import type { Analysis, AnalysisRequest } from "./analyze";

/**
 * The analysis of a message that stalled its scan thread (no heartbeat for the stall limit), even alone on a thread
 * of its own (scan-pool.ts): nothing of its content was judged, so it is held for review (`policy.scan_timeout`
 * holds alone, and with no authentication result no permit applies), and archived with what its top-level headers
 * say. Built in the calling thread from the header block only, whose cost is bounded by its size, never from the
 * body that stalled the scan.
 */
export async function stalledAnalysis(request: AnalysisRequest, stallLimitMs: number): Promise<Analysis> {
  const parsed = await parseHeadersOnly(request.raw);
  const seconds = Math.round(stallLimitMs / 100) / 10;
  const assessment = assessmentFromSignals({
    signals: [
      signal(
        "policy.scan_timeout",
        "The message could not be checked: its scan stopped answering, so it is held for review.",
        `The scan answered nothing for ${seconds} s, twice; its body was not checked.`,
      ),
    ],
    classification: { spamProbability: 0.5, phishProbability: 0.5, clues: [] },
    auth: { spf: "temperror", dkim: "temperror", dmarc: "temperror", arc: "temperror" },
    from: senderOf({ parsed, envelope: request.envelope }),
  });
  return { fields: archiveFieldsOf(parsed), assessment };
}
