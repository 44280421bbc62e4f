import { sql, type Kysely, type Transaction } from "kysely";
import type { Database } from "../../db/schema";
import { CLASS_INDEX, CLASS_LABELS, ContentClassifier, type ClassLabel } from "../scan/classifier/index";

/** Tokens read by one query of a whole load: ~0.25 s of PGlite's connection on 2 cores (BENCHMARKS.md). */
export const LOAD_PAGE_TOKENS = 100_000;

/** The stored model's head: its revision, the revision of its latest pruning, and the messages it learnt per class. */
export interface ClassifierHead {
  revision: number;
  /** A copy older than this revision misses rows the pruning deleted: it loads the model whole again. */
  prunedRevision: number;
  messages: Record<ClassLabel, number>;
}

type Counts = [number, number, number];

/** Token rows bound per statement (four arrays of this length): large enough for a training chunk in a few trips. */
const ROWS_PER_STATEMENT = 20_000;

/**
 * What one change teaches the stored model, as per-token deltas: learning and unlearning here mirror
 * `ContentClassifier.learn`/`unlearn` (each message counts a token once; unlearning a class with no messages
 * learnt is a no-op), and `commitClassifierChange` writes only the rows of the tokens it touched.
 */
export class ClassifierChange {
  /** token → [ham, spam, phish] deltas. */
  readonly tokens = new Map<string, Counts>();
  /** Messages per class, as stored before the change plus what it learnt and unlearnt. */
  readonly messages: Counts;

  constructor(stored: Record<ClassLabel, number>) {
    this.messages = [stored.ham, stored.spam, stored.phish];
  }

  /** Counts one message's tokens under a label. */
  learn(tokens: Iterable<string>, label: ClassLabel): void {
    this.adjust(tokens, label, 1);
  }

  /** Takes back an earlier `learn` of the same tokens under that label. */
  unlearn(tokens: Iterable<string>, label: ClassLabel): void {
    if (this.messages[CLASS_INDEX[label]] === 0) return;
    this.adjust(tokens, label, -1);
  }

  private adjust(tokens: Iterable<string>, label: ClassLabel, delta: 1 | -1): void {
    const i = CLASS_INDEX[label];
    this.messages[i] += delta;
    for (const token of new Set(tokens)) {
      let row = this.tokens.get(token);
      if (!row) this.tokens.set(token, (row = [0, 0, 0]));
      row[i] += delta;
    }
  }
}

/** The stored head, or revision 0 with no messages when the tenant has no model yet. */
export async function readClassifierHead(
  db: Kysely<Database> | Transaction<Database>,
  tenantId: string,
): Promise<ClassifierHead> {
  const row = await db
    .selectFrom("classifier_states")
    .select(["revision", "pruned_revision", "ham", "spam", "phish"])
    .where("tenant_id", "=", tenantId)
    .executeTakeFirst();
  return row
    ? {
        revision: row.revision,
        prunedRevision: row.pruned_revision,
        messages: { ham: row.ham, spam: row.spam, phish: row.phish },
      }
    : { revision: 0, prunedRevision: 0, messages: { ham: 0, spam: 0, phish: 0 } };
}

/** The whole stored model of a tenant (an untrained one when nothing is stored), with the head it reflects. */
export async function loadStoredClassifier(
  db: Kysely<Database>,
  tenantId: string,
  pageTokens = LOAD_PAGE_TOKENS,
): Promise<{ classifier: ContentClassifier; head: ClassifierHead }> {
  const head = await readClassifierHead(db, tenantId);
  const classifier = new ContentClassifier();
  classifier.setMessageCounts(head.messages);
  if (head.revision === 0) return { classifier, head };
  // Four arrays in one row rather than a row per token: 0.6 s instead of 4 s for 315,000 tokens on PGlite, whose
  // rows cross its wire protocol one by one (0.9 s instead of 0.65 s on PostgreSQL; BENCHMARKS.md). In pages of
  // LOAD_PAGE_TOKENS by token: one query for a million tokens held PGlite's one connection for 2.7 s, and SMTP with
  // it. The pages need no common snapshot: a row changed after `head` is left out here and read by the next refresh
  // (rows changed since the copy's revision), and a pruning meanwhile stamps a revision that makes it reload whole.
  for (let after: string | null = null; ;) {
    const page: TokenPage = await readTokenPage(db, tenantId, head.revision, after, pageTokens);
    page.tokens.forEach((token, i) =>
      classifier.setTokenCounts(token, [page.ham[i] ?? 0, page.spam[i] ?? 0, page.phish[i] ?? 0]),
    );
    if (page.last === null || page.tokens.length < pageTokens) break;
    after = page.last;
  }
  return { classifier, head };
}

/** One page of a whole load: the tokens after `after` in token order, as four arrays, and the page's last token. */
interface TokenPage {
  tokens: string[];
  ham: number[];
  spam: number[];
  phish: number[];
  last: string | null;
}

async function readTokenPage(
  db: Kysely<Database>,
  tenantId: string,
  revision: number,
  after: string | null,
  pageTokens: number,
): Promise<TokenPage> {
  const { rows } = await sql<TokenPage>`
    SELECT coalesce(array_agg(token), '{}') AS tokens, coalesce(array_agg(ham), '{}') AS ham,
      coalesce(array_agg(spam), '{}') AS spam, coalesce(array_agg(phish), '{}') AS phish, max(token) AS last
    FROM (
      SELECT token, ham, spam, phish FROM classifier_tokens
      WHERE tenant_id = ${tenantId} AND changed <= ${revision} AND ham + spam + phish > 0
        ${after === null ? sql`` : sql`AND token > ${after}`}
      ORDER BY token LIMIT ${pageTokens}
    ) page`.execute(db);
  return rows[0] ?? { tokens: [], ham: [], spam: [], phish: [], last: null };
}

/**
 * Brings a loaded model up to the stored one, in place: the head first, then the token rows changed after the
 * revision the copy holds. Rows are absolute counts, so reading one a later change also wrote does no harm (the next
 * refresh writes it again); reading the head first means no change the new revision includes is missed. Returns what
 * it applied, null when nothing changed, or "reload" (nothing applied) when a pruning since the copy's revision
 * deleted rows the copy still holds: only a whole load drops them.
 */
export async function refreshStoredClassifier(
  db: Kysely<Database>,
  tenantId: string,
  classifier: ContentClassifier,
  since: number,
): Promise<ClassifierDelta | null | "reload"> {
  const head = await readClassifierHead(db, tenantId);
  if (head.revision === since) return null;
  if (head.prunedRevision > since) return "reload";
  const rows = await db
    .selectFrom("classifier_tokens")
    .select(["token", "ham", "spam", "phish"])
    .where("tenant_id", "=", tenantId)
    .where("changed", ">", since)
    .execute();
  const tokens: TokenCounts[] = rows.map((row) => [row.token, row.ham, row.spam, row.phish]);
  applyClassifierDelta(classifier, { tokens, messages: head.messages });
  return { from: since, to: head.revision, tokens, messages: head.messages };
}

/** One token's stored counts: [token, ham, spam, phish]. */
export type TokenCounts = [string, number, number, number];

/** What a copy at revision `from` needs to be at `to`: the rows changed in between, and the head's message counts. */
export interface ClassifierDelta {
  from: number;
  to: number;
  tokens: TokenCounts[];
  messages: Record<ClassLabel, number>;
}

/** Applies a delta's rows and message counts to a copy (which must be at the delta's `from`). */
export function applyClassifierDelta(
  classifier: ContentClassifier,
  delta: Pick<ClassifierDelta, "tokens" | "messages">,
): void {
  for (const [token, ham, spam, phish] of delta.tokens) classifier.setTokenCounts(token, [ham, spam, phish]);
  classifier.setMessageCounts(delta.messages);
}

async function writeTokenDeltas(
  trx: Transaction<Database>,
  tenantId: string,
  revision: number,
  deltas: ReadonlyArray<[string, Counts]>,
): Promise<void> {
  for (let start = 0; start < deltas.length; start += ROWS_PER_STATEMENT) {
    const part = deltas.slice(start, start + ROWS_PER_STATEMENT);
    const column = (i: 0 | 1 | 2) => sql.val(part.map(([, d]) => d[i]));
    // Existing rows take the deltas (never below zero); new tokens are inserted. The tenant's state row is locked,
    // so no other change can insert the same token meanwhile.
    await sql`
      WITH d AS (
        SELECT * FROM unnest(${sql.val(part.map(([token]) => token))}::text[], ${column(0)}::int[],
          ${column(1)}::int[], ${column(2)}::int[]) AS d(token, ham, spam, phish)
      ), updated AS (
        UPDATE classifier_tokens t SET
          ham = GREATEST(0, t.ham + d.ham), spam = GREATEST(0, t.spam + d.spam),
          phish = GREATEST(0, t.phish + d.phish), changed = ${revision}
        FROM d WHERE t.tenant_id = ${tenantId} AND t.token = d.token
        RETURNING t.token
      )
      INSERT INTO classifier_tokens (tenant_id, token, ham, spam, phish, changed)
      SELECT ${tenantId}, d.token, GREATEST(0, d.ham), GREATEST(0, d.spam), GREATEST(0, d.phish), ${revision}
      FROM d WHERE d.token NOT IN (SELECT token FROM updated)`.execute(trx);
  }
}

/**
 * Changes a tenant's stored classifier inside the caller's transaction: locks its state row (created if missing) so
 * concurrent changes serialise, lets `build` learn into a `ClassifierChange` (and write what it learnt from), and,
 * when `build` says it changed something, writes the touched tokens' rows and the new head under the next revision.
 * Returns that head, or null when nothing changed. Feedback and labelled-mail training both go through here; the
 * caller refreshes the registry's copy after its commit.
 */
export async function commitClassifierChange(
  trx: Transaction<Database>,
  tenantId: string,
  build: (change: ClassifierChange) => Promise<boolean>,
): Promise<ClassifierHead | null> {
  await trx
    .insertInto("classifier_states")
    .values({ tenant_id: tenantId })
    .onConflict((oc) => oc.column("tenant_id").doNothing())
    .execute();
  const locked = await trx
    .selectFrom("classifier_states")
    .select(["revision", "pruned_revision", "ham", "spam", "phish"])
    .where("tenant_id", "=", tenantId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const change = new ClassifierChange(locked);
  if (!(await build(change))) return null;
  const revision = locked.revision + 1;
  await writeTokenDeltas(trx, tenantId, revision, [...change.tokens]);
  const [ham, spam, phish] = change.messages;
  await trx
    .updateTable("classifier_states")
    .set({ revision, ham, spam, phish, updated_at: sql<Date>`clock_timestamp()` })
    .where("tenant_id", "=", tenantId)
    .execute();
  return { revision, prunedRevision: locked.pruned_revision, messages: { ham, spam, phish } };
}

/** Stores a whole model as a tenant's (its tokens added to what is stored): for a model trained outside, as the bench's. */
export async function storeWholeClassifier(
  db: Kysely<Database>,
  tenantId: string,
  classifier: ContentClassifier,
): Promise<ClassifierHead | null> {
  return db.transaction().execute((trx) =>
    commitClassifierChange(trx, tenantId, async (change) => {
      for (const label of CLASS_LABELS)
        change.messages[CLASS_INDEX[label]] += classifier.messageCounts[label];
      for (const [token, counts] of classifier.entries()) change.tokens.set(token, [...counts]);
      return true;
    }),
  );
}
