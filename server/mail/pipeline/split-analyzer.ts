import type { Analysis, AnalysisRequest, Analyzer } from "./analyze";

/**
 * With no scan threads configured, messages of `minBytes` or more are analysed on one scan thread, started when
 * the first such message arrives, and the rest in the calling thread. A large message is where a parse or a scan
 * can run away (an expression that backtracks, a deep structure): a thread held by one is seen to stop answering
 * and is stopped (scan-pool.ts), where the calling thread would hold SMTP and HTTP for everyone. Small messages,
 * most of the traffic, skip the copy to the thread and back.
 */
export class SizeSplitAnalyzer implements Analyzer {
  private thread: Analyzer | null = null;
  private closed = false;

  constructor(
    private readonly inline: Analyzer,
    private readonly minBytes: number,
    private readonly startThread: () => Analyzer,
  ) {}

  /** Analyses a large message on the scan thread, any other here. */
  analyze(request: AnalysisRequest): Promise<Analysis> {
    if (request.raw.length < this.minBytes || this.closed) return this.inline.analyze(request);
    this.thread ??= this.startThread();
    return this.thread.analyze(request);
  }

  /** Stops the scan thread, if it was started. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.thread?.close(), this.inline.close()]);
  }
}
