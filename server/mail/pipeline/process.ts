import type { Kysely } from "kysely";
import type { Database } from "../../db/schema";
import type { Services } from "../../context";
import { emptyArchiveFields, type ArchiveFields } from "../../archive/parse";
import type { ArchiveEnvelope } from "../../archive/store";
import { scannerNameOf, type DnsResolver } from "../scan/index";
import { InlineAnalyzer, TenantScanners, type Analyzer, type ScannerEnv } from "./analyze";
import { classifierRegistryFor, type ClassifierRegistry } from "./classifiers";
import {
  commitParameters,
  commitPrepared,
  type CommittedMessage,
  type PreparedMessage,
  type TenantBatch,
} from "./commit-batch";
import { MAX_STATEMENT_PARAMETERS } from "./commit";
import { TenantDirectory, type RecipientLookup } from "./directory";
import { GroupCommit } from "./group-commit";
import { ScanPool } from "./scan-pool";
import type { ScanPoolTestHooks } from "./scan-thread";
import { SizeSplitAnalyzer } from "./split-analyzer";
import { sendAsRefusal } from "./send-as";
import { gatewayHostname, type MessageTrace, type SubmissionCredential } from "../deliver/trace";

/** One of our users who signed in with SMTP AUTH to send. */
export interface AuthenticatedSender {
  userId: string;
  tenantId: string;
  email: string;
  /** What they signed in with (recorded in the message trace); absent for senders not from SMTP AUTH. */
  credential?: SubmissionCredential;
  /** Their other addresses (aliases, lower case), which they may send from too. */
  addresses?: readonly string[];
}

/** The envelope as the pipeline sees it (from SMTP, or made up by an import). */
export interface PipelineEnvelope {
  mailFrom: string;
  rcptTo: string[];
  clientIp: string;
  helo: string;
  /** The SMTP session ran over TLS (absent: it did not, or the message did not come over SMTP). */
  tls?: boolean;
  sender: AuthenticatedSender | null;
}

/**
 * A message to process. `archiveOnly` (import): verdicts are recorded, nothing is held or sent, and it is filed for
 * `owner`, the mailbox the import was asked for.
 */
export interface PipelineInput {
  raw: Buffer;
  envelope: PipelineEnvelope;
  source: ArchiveEnvelope["source"];
  archiveOnly?: {
    folder: "inbox" | "sent";
    direction: ArchiveEnvelope["direction"];
    owner: { tenantId: string; userId: string; address: string };
  };
}

/** The outcome the gateway turns into its reply to DATA. */
export type PipelineOutcome =
  | { kind: "accepted"; messageIds: string[]; created: boolean; queued: number; held: number }
  | { kind: "rejected"; code: 550; message: string; messageIds: string[] }
  /** A signed-in sender's From is not their own address (send-as.ts): refused, nothing stored. */
  | { kind: "send_as_refused"; code: 550; message: string }
  | { kind: "no_recipients"; code: 550; message: string };

/** Settings for a pipeline: the DNS mailauth uses, and how many worker threads parse and scan (0: this thread). */
export interface MailPipelineOptions {
  resolver: DnsResolver;
  scanThreads?: number;
  /** With no scan threads: messages of this size or more are analysed on one, under the stall limit (absent, 0: none). */
  scanThreadMinBytes?: number;
  /** How long a scan thread with mail in flight may send no heartbeat (scan-thread.ts's default when absent). */
  scanStallLimitMs?: number;
  /** Most messages committed in one transaction (group commit; GroupCommit's default when absent, 1: each alone). */
  commitBatch?: number;
  /** How many group commits may run at once (GroupCommit's default, one, when absent). */
  commitsInFlight?: number;
  /** The longest a message waits for its commit before `process` throws CommitTimedOut (→ 451); absent: no limit. */
  commitTimeoutMs?: number;
  /**
   * Where the gateway's own reads (recipients at RCPT, organisation profiles) and commits run: the runtime's bounded
   * connections (DatabaseHandle.bounded), so a hung statement ends in a 451 and not the SMTP session's idle timeout;
   * absent: `services.db`.
   */
  gatewayDb?: Kysely<Database>;
  /** Tests only: what the scan workers do on purpose (scan-pool.ts). */
  scanPoolTestHooks?: ScanPoolTestHooks;
}

/**
 * The message pipeline both the SMTP gateway and the importer use: parse once,
 * assess once per tenant, decide per recipient (org and personal rules), and
 * write archive, mailbox links, held items and deliveries in ONE atomic statement (a transaction of its own).
 * The caller acknowledges only after `process` resolves, i.e. after the commit.
 */
export class MailPipeline {
  readonly directory: TenantDirectory;
  readonly classifiers: ClassifierRegistry;
  private readonly analyzer: Analyzer;
  private readonly commits: GroupCommit<PreparedMessage, CommittedMessage>;

  constructor(
    private readonly services: Services,
    options: MailPipelineOptions,
  ) {
    const gatewayDb = options.gatewayDb ?? services.db;
    this.directory = new TenantDirectory(gatewayDb);
    this.classifiers = classifierRegistryFor(services);
    const threads = options.scanThreads ?? 0;
    const scannerEnv: ScannerEnv = {
      RSPAMD_URL: services.config.RSPAMD_URL,
      MAILWARD_CLAMD: services.config.MAILWARD_CLAMD,
      MAILWARD_CLAMD_STREAM_LIMIT: services.config.MAILWARD_CLAMD_STREAM_LIMIT,
      authservId: gatewayHostname(services.config),
      dnsblZones: services.config.MAILWARD_DNSBL,
    };
    const inline = new InlineAnalyzer(
      new TenantScanners(scannerEnv, options.resolver, (tenantId) => this.classifiers.peek(tenantId)),
    );
    const pool = (size: number) =>
      new ScanPool(
        size,
        options.resolver,
        this.classifiers,
        scannerEnv,
        services.logger,
        inline,
        options.scanPoolTestHooks,
        options.scanStallLimitMs,
      );
    const minBytes = options.scanThreadMinBytes ?? 0;
    this.analyzer =
      threads > 0
        ? pool(threads)
        : minBytes > 0
          ? new SizeSplitAnalyzer(inline, minBytes, () => pool(1))
          : inline;
    const commit = (messages: PreparedMessage[]) => commitPrepared(gatewayDb, messages, services.now());
    this.commits = new GroupCommit(commit, {
      ...(options.commitBatch === undefined ? {} : { maxBatch: options.commitBatch }),
      ...(options.commitsInFlight === undefined ? {} : { concurrency: options.commitsInFlight }),
      ...(options.commitTimeoutMs === undefined ? {} : { timeoutMs: options.commitTimeoutMs }),
      weight: { of: commitParameters, max: MAX_STATEMENT_PARAMETERS },
    });
  }

  /** Stops the scan workers that were started (none were when every message was scanned inline). */
  close(): Promise<void> {
    return this.analyzer.close();
  }

  private batchesOf(
    lookups: RecipientLookup[],
    sender: AuthenticatedSender | null,
  ): Map<string, Array<{ address: string; userId: string | null }>> {
    const batches = new Map<string, Array<{ address: string; userId: string | null }>>();
    const add = (tenantId: string, address: string, userId: string | null) => {
      const list = batches.get(tenantId) ?? [];
      // One person named twice (alias, plus address, primary) is one mailbox: the first address names their
      // copy. Each delivery is a transaction of its own, so more would put the message in the mailbox twice.
      if (!list.some((r) => r.address === address || (userId !== null && r.userId === userId)))
        list.push({ address, userId });
      batches.set(tenantId, list);
    };
    for (const lookup of lookups) {
      if (sender) {
        // A user's own submission: everything is one outbound/internal copy in the sender's tenant.
        add(
          sender.tenantId,
          lookup.address,
          lookup.kind === "local" && lookup.tenantId === sender.tenantId ? lookup.userId : null,
        );
      } else if (lookup.kind === "local") {
        add(lookup.tenantId, lookup.address, lookup.userId);
      } else if (lookup.kind === "group" || lookup.kind === "unknown_user") {
        // Nobody's own mailbox: scanned and archived once, relayed as addressed; held for the organisation's admins.
        // An unknown user here was someone at RCPT time (removed since, a cache's seconds ago): their copy was
        // promised with the others' 250, so it goes on to the next hop, which knows best (and bounces if need be).
        add(lookup.tenantId, lookup.address, null);
      }
      // Outside addresses were refused at RCPT time, unless a domain left us since: no organisation to file them for.
    }
    return batches;
  }

  /** Runs one message through the pipeline; throws (→ 451) when the database is unavailable. */
  async process(input: PipelineInput): Promise<PipelineOutcome> {
    const { services } = this;
    const receivedAt = services.now();
    const sender = input.envelope.sender;
    // An import files into the mailbox it names, whoever the directory routes mail to now: someone who left it no
    // longer receives mail, but their archive is still theirs (the lookup would make them nobody's, filed for no one).
    const lookups: RecipientLookup[] = input.archiveOnly
      ? [{ kind: "local", ...input.archiveOnly.owner }]
      : await this.directory.lookupRecipients(input.envelope.rcptTo);
    const recipientsByTenant = this.batchesOf(lookups, sender);
    if (recipientsByTenant.size === 0)
      return { kind: "no_recipients", code: 550, message: "5.1.1 No valid recipients" };

    const batches: TenantBatch[] = [];
    let fields: ArchiveFields | null = null;
    for (const [tenantId, recipients] of recipientsByTenant) {
      const profile = await this.directory.profile(tenantId);
      await this.classifiers.get(tenantId);
      const analysis = await this.analyzer.analyze({
        raw: input.raw,
        envelope: {
          mailFrom: input.envelope.mailFrom,
          rcptTo: recipients.map((r) => r.address),
          clientIp: input.envelope.clientIp,
          helo: input.envelope.helo,
          authenticated: sender !== null,
        },
        tenantId,
        tenant: profile.context,
      });
      fields ??= analysis.fields;
      batches.push({ tenantId, profile, assessment: analysis.assessment, recipients });
    }
    const refusal = sender && fields ? sendAsRefusal(fields, sender, input.raw) : null;
    if (refusal) {
      services.metrics.messagesIngested.inc({ verdict: "rejected" });
      return { kind: "send_as_refused", code: 550, message: refusal };
    }
    const direction: ArchiveEnvelope["direction"] =
      input.archiveOnly?.direction ??
      (!sender
        ? "inbound"
        : // Mail to our own people or groups (Microsoft 365 expands a group to colleagues) stays inside.
          lookups.every((l) => l.kind !== "external" && l.tenantId === sender.tenantId)
          ? "internal"
          : "outbound");
    const trace: MessageTrace | null =
      input.source === "smtp"
        ? {
            helo: input.envelope.helo,
            clientIp: input.envelope.clientIp,
            tls: input.envelope.tls ?? false,
            authenticated: sender !== null,
            ...(sender?.credential ? { credential: sender.credential } : {}),
            receivedAt: receivedAt.toISOString(),
            // Our own users' submissions are not checked against the Internet's records.
            authenticationHeaders: sender ? "" : (batches[0]?.assessment.authenticationHeaders ?? ""),
            arc: sender ? null : (batches[0]?.assessment.arc ?? null),
          }
        : null;
    const outcome = await this.commits.submit({
      raw: input.raw,
      trace,
      fields: fields ?? emptyArchiveFields(),
      envelope: {
        // A signed-in sender's null reverse-path (a read receipt, an auto-reply: RFC 8098 §3, RFC 3834 §3.3) is
        // archived as theirs, and relayed with <> as they sent it, so nothing ever bounces back to it.
        ...(sender && input.envelope.mailFrom === ""
          ? { mailFrom: sender.email, relayMailFrom: "" }
          : { mailFrom: input.envelope.mailFrom }),
        rcptTo: input.envelope.rcptTo,
        direction,
        source: input.source,
        receivedAt,
      },
      batches,
      sender: sender ? { tenantId: sender.tenantId, userId: sender.userId } : null,
      archiveOnly: input.archiveOnly ? { folder: input.archiveOnly.folder } : null,
      scannerName: scannerNameOf(services.config),
    });

    if (outcome.queued > 0) services.signals.deliveriesQueued();
    const verdict = outcome.rejectAll
      ? "rejected"
      : outcome.held > 0
        ? outcome.queued > 0
          ? "mixed"
          : "held"
        : "delivered";
    services.metrics.messagesIngested.inc({ verdict });
    if (outcome.rejectAll) {
      return {
        kind: "rejected",
        code: 550,
        message: `5.7.1 Message refused: ${outcome.explanation}`,
        messageIds: outcome.messageIds,
      };
    }
    return {
      kind: "accepted",
      messageIds: outcome.messageIds,
      created: outcome.created,
      queued: outcome.queued,
      held: outcome.held,
    };
  }
}
