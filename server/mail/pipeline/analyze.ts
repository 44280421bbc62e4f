import type { ParsedMail } from "mailparser";
import { archiveFieldsOf, openAttachedMessages, type ArchiveFields } from "../../archive/parse";
import {
  ContentClassifier,
  createScanner,
  parseForScan,
  type DnsResolver,
  type ScannerChoice,
} from "../scan/index";
import type { Assessment, Scanner, TenantContext } from "../scan/types";

/** What the pipeline needs from the CPU-heavy part: the archive fields and one tenant's assessment. */
export interface Analysis {
  fields: ArchiveFields;
  assessment: Assessment;
}

/** The SMTP facts a scanner looks at. */
export interface AnalysisEnvelope {
  mailFrom: string;
  rcptTo: string[];
  clientIp: string;
  helo: string;
  /** The sender signed in with SMTP AUTH. */
  authenticated?: boolean;
}

/** One message to analyse for one tenant. */
export interface AnalysisRequest {
  raw: Buffer;
  envelope: AnalysisEnvelope;
  tenantId: string;
  tenant: TenantContext;
}

/** Parses and assesses messages, in this thread or in worker threads (scan-pool.ts). */
export interface Analyzer {
  analyze(request: AnalysisRequest): Promise<Analysis>;
  close(): Promise<void>;
}

/** The settings every tenant's scanner is built with (plain data: it is also sent to scan threads). */
export interface ScannerEnv extends ScannerChoice {
  /** The gateway's name in Authentication-Results. */
  authservId?: string | undefined;
  /** DNS blocklists for the client IP (MAILWARD_DNSBL). */
  dnsblZones?: string[] | undefined;
}

/** Scanners per tenant over a resolver and a classifier lookup (used by both the inline and the worker analyzers). */
export class TenantScanners {
  private readonly scanners = new Map<string, Scanner>();

  constructor(
    private readonly env: ScannerEnv,
    private readonly resolver: DnsResolver,
    private readonly classifierOf: (tenantId: string) => ContentClassifier | undefined,
  ) {}

  /** The scanner for a tenant (built once). */
  for(tenantId: string): Scanner {
    let scanner = this.scanners.get(tenantId);
    if (!scanner) {
      scanner = createScanner(this.env, {
        resolver: this.resolver,
        classifierFor: () => this.classifierOf(tenantId),
        ...(this.env.authservId ? { authservId: this.env.authservId } : {}),
        ...(this.env.dnsblZones ? { dnsblZones: this.env.dnsblZones } : {}),
      });
      this.scanners.set(tenantId, scanner);
    }
    return scanner;
  }
}

/**
 * Assesses a message with the tenant's scanner, from one parse for both the archive and the scanner: the scanner's
 * own (`parseForScan`), with room for 20,000 MIME parts where mailparser's default refuses any message of more than
 * 1,000 (a program past part 1,000 went unseen), and for what mailparser refuses even so the headers alone, marked
 * incomplete so the scanner holds the message for review.
 */
export async function analyzeWith(
  scanners: TenantScanners,
  request: AnalysisRequest,
  parsed: ParsedMail,
): Promise<Analysis> {
  await openAttachedMessages(parsed, request.raw);
  const fields = archiveFieldsOf(parsed);
  const assessment = await scanners.for(request.tenantId).assess({
    raw: request.raw,
    parsed,
    envelope: request.envelope,
    tenant: request.tenant,
  });
  return { fields, assessment };
}

/** The analyzer that works in the calling thread; a message analysed for two tenants is parsed once. */
export class InlineAnalyzer implements Analyzer {
  private readonly parses = new WeakMap<Buffer, Promise<ParsedMail>>();

  constructor(private readonly scanners: TenantScanners) {}

  /** Analyses in this thread. */
  async analyze(request: AnalysisRequest): Promise<Analysis> {
    let parsed = this.parses.get(request.raw);
    if (!parsed) {
      parsed = parseForScan(request.raw);
      this.parses.set(request.raw, parsed);
    }
    return analyzeWith(this.scanners, request, await parsed);
  }

  /** Nothing to release. */
  async close(): Promise<void> {}
}
