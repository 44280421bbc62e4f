import { sql, type Kysely } from "kysely";
import type { Database } from "../server/db/schema";
import { createIndexSql, ONLINE_INDEXES } from "../server/db/online-indexes";
import type { Vocabulary } from "./search-vocabulary";

/** Users (agents) the synthetic mail is spread over. */
export const BENCH_USERS = 500;
/** Days the synthetic mail spans (2014–2025). */
const SPAN_SECONDS = 12 * 365 * 86400;

async function loadTable(
  db: Kysely<Database>,
  table: string,
  columns: string[],
  rows: string[][],
): Promise<void> {
  await sql
    .raw(`CREATE TABLE ${table} (i int PRIMARY KEY, ${columns.map((c) => `${c} text NOT NULL`).join(", ")})`)
    .execute(db);
  for (let start = 0; start < rows.length; start += 2000) {
    const chunk = rows.slice(start, start + 2000);
    const arrays = columns.map((_, c) => chunk.map((r) => r[c] ?? ""));
    const ids = chunk.map((_, k) => start + k);
    await sql`INSERT INTO ${sql.table(table)} SELECT * FROM unnest(${ids}::int[], ${sql.join(arrays.map((a) => sql`${a}::text[]`))})`.execute(
      db,
    );
  }
}

/** Loads the vocabulary into bench_* tables, creates the tenant and its agents; returns the tenant id. */
export async function prepareBench(db: Kysely<Database>, vocabulary: Vocabulary): Promise<string> {
  await loadTable(
    db,
    "bench_senders",
    ["name", "address"],
    vocabulary.senders.map((s) => [s.name, s.address]),
  );
  await loadTable(
    db,
    "bench_subjects",
    ["s"],
    vocabulary.subjects.map((s) => [s]),
  );
  await loadTable(
    db,
    "bench_paragraphs",
    ["p"],
    vocabulary.paragraphs.map((p) => [p]),
  );
  await loadTable(
    db,
    "bench_attachments",
    ["n"],
    vocabulary.attachmentNames.map((n) => [n]),
  );
  const tenant = await db
    .insertInto("tenants")
    .values({ name: "Bench" })
    .returning("id")
    .executeTakeFirstOrThrow();
  await db
    .insertInto("tenant_domains")
    .values({ tenant_id: tenant.id, domain: "bench.example", verified_at: new Date() })
    .execute();
  await sql`INSERT INTO users (tenant_id, email, display_name) SELECT ${tenant.id}, 'agent' || g || '@bench.example', 'Agent ' || g FROM generate_series(0, ${BENCH_USERS - 1}) g`.execute(
    db,
  );
  return tenant.id;
}

/** An index the product builds after its migrations (server/db/online-indexes.ts), as the bench rebuilds it. */
function onlineIndex(name: string): { name: string; create: string } {
  const index = ONLINE_INDEXES.find((i) => i.name === name);
  if (!index) throw new Error(`no online index named ${name}`);
  return { name, create: createIndexSql(index) };
}

/** Indexes dropped during the bulk load and rebuilt after it (timed separately). */
export const DEFERRED_INDEXES: Array<{ name: string; create: string }> = [
  { name: "messages_search", create: "CREATE INDEX messages_search ON messages USING gin (search_vector)" },
  onlineIndex("messages_common_grams"),
  {
    name: "messages_references",
    create: "CREATE INDEX messages_references ON messages USING gin (reference_ids)",
  },
];

/** Optional indexes (they need pg_trgm, which PGlite also loads since migration 0901) rebuilt when they existed. */
export const OPTIONAL_INDEXES: Array<{ name: string; create: string }> = [onlineIndex("messages_from_trgm")];

/** u in [0,1) from a deterministic hash of (i, salt). */
const unit = (salt: number) => sql.raw(`((abs(hashint8extended(i, ${salt})) % 1000000) / 1000000.0)`);

/**
 * Inserts synthetic messages `from..to` (inclusive) in one statement: a Zipf-like sender (u³ skew),
 * a real subject, three real paragraphs, a unique reference token (MWR<i>), a date spread over
 * 12 years, 10% with an attachment name, 15% outbound; the same tsvector weights as ingest.
 * Each message is linked to the agent it was addressed to (the link's date copied, as the trigger would).
 * Deterministic in i, so any subset (the notmuch 100k) is the same mail in every store.
 */
export async function insertRange(
  db: Kysely<Database>,
  tenantId: string,
  from: number,
  to: number,
): Promise<void> {
  await sql`WITH g AS (
      SELECT i,
        (SELECT count(*) FROM bench_senders) AS ns, (SELECT count(*) FROM bench_subjects) AS nsub,
        (SELECT count(*) FROM bench_paragraphs) AS np, (SELECT count(*) FROM bench_attachments) AS na,
        ${unit(1)} AS u_sender, ${unit(2)} AS u_subject, ${unit(3)} AS u_p1, ${unit(4)} AS u_p2, ${unit(5)} AS u_p3,
        ${unit(6)} AS u_attach, ${unit(7)} AS u_date, ${unit(8)} AS u_dir, ${unit(9)} AS u_user
      FROM generate_series(${from}::bigint, ${to}::bigint) i
    ), rows AS (
      SELECT g.i, s.name AS from_name, s.address AS from_address, sub.s AS subject,
        p1.p || E'\n\n' || p2.p || E'\n\n' || p3.p || E'\n\nReference: MWR' || g.i AS body,
        CASE WHEN g.u_attach < 0.1 THEN ARRAY[a.n] ELSE '{}'::text[] END AS attachments,
        timestamptz '2014-01-01 00:00:00+00' + make_interval(secs => floor(g.u_date * ${SPAN_SECONDS})) AS date,
        CASE WHEN g.u_dir < 0.15 THEN 'outbound' ELSE 'inbound' END AS direction,
        'agent' || floor(g.u_user * ${BENCH_USERS})::int || '@bench.example' AS rcpt,
        encode(sha256(('bench-' || g.i)::bytea), 'hex') AS sha
      FROM g
      JOIN bench_senders s ON s.i = floor(g.ns * power(g.u_sender, 3))::int
      JOIN bench_subjects sub ON sub.i = floor(g.u_subject * g.nsub)::int
      JOIN bench_paragraphs p1 ON p1.i = floor(g.u_p1 * g.np)::int
      JOIN bench_paragraphs p2 ON p2.i = floor(g.u_p2 * g.np)::int
      JOIN bench_paragraphs p3 ON p3.i = floor(g.u_p3 * g.np)::int
      JOIN bench_attachments a ON a.i = floor(g.u_attach * 10 * g.na)::int % g.na
    ), blobs AS (
      INSERT INTO message_blobs (tenant_id, sha256, raw_size, stored_size, compression, content)
      SELECT ${tenantId}, sha, octet_length(body) + 300, 0, 'bench', '\\x'::bytea FROM rows
    ), inserted AS (
    INSERT INTO messages (tenant_id, sha256, message_id, subject, from_address, from_name, to_addresses, envelope_to, date, received_at,
      size, has_attachments, attachment_names, body_text, direction, source, search_vector)
    SELECT ${tenantId}, sha, '<bench-' || i || '@mailward.bench>', subject, from_address, from_name, ARRAY[rcpt], ARRAY[rcpt], date, date + interval '1 minute',
      octet_length(body) + 300, cardinality(attachments) > 0, attachments, body, direction, 'import',
      setweight(to_tsvector('simple', subject), 'A')
        || setweight(to_tsvector('simple', from_name || ' ' || from_address || ' ' || rcpt), 'B')
        || setweight(to_tsvector('simple', array_to_string(attachments, ' ')), 'B')
        || setweight(to_tsvector('simple', body), 'D')
    FROM rows
    RETURNING id, date, to_addresses[1] AS rcpt, direction
    )
    INSERT INTO mailbox_links (tenant_id, message_id, user_id, folder, message_date)
    SELECT ${tenantId}, ins.id, u.id, CASE WHEN ins.direction = 'outbound' THEN 'sent' ELSE 'inbox' END, ins.date
    FROM inserted ins JOIN users u ON u.tenant_id = ${tenantId} AND u.email = ins.rcpt`.execute(db);
}
