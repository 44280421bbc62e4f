import { PGlite } from "@electric-sql/pglite";
import {
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  sql,
  type RawBuilder,
} from "kysely";
import { buildSearchVectorSql, type SearchVectorInput } from "../../../../server/archive/query";

/** A Kysely that only compiles (never connects), to turn `sql` fragments into `{ sql, parameters }`. */
export const compilerOnly = new Kysely<Record<string, never>>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

/** One handcrafted archive row; `label` goes into message_id so result sets read as labels. */
export interface FixtureMessage extends SearchVectorInput {
  label: string;
  date: string;
  hasAttachments?: boolean;
}

/** The messages table with exactly the columns the query compiler relies on (NOT NULL as in the real schema). */
const CREATE_MESSAGES = `CREATE TABLE messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL,
  message_id text NOT NULL,
  subject text NOT NULL DEFAULT '',
  from_address text NOT NULL DEFAULT '',
  from_name text NOT NULL DEFAULT '',
  to_addresses text[] NOT NULL DEFAULT '{}',
  cc_addresses text[] NOT NULL DEFAULT '{}',
  date timestamptz NOT NULL,
  has_attachments boolean NOT NULL DEFAULT false,
  attachment_names text[] NOT NULL DEFAULT '{}',
  body_text text NOT NULL DEFAULT '',
  search_vector tsvector NOT NULL
)`;

/** Runs compiled fragments against an in-memory PGlite holding the fixture rows. */
export class ArchiveSqlHarness {
  private constructor(readonly pg: PGlite) {}

  /** Start PGlite, create the table and insert the rows (search_vector built by buildSearchVectorSql). */
  static async start(rows: readonly FixtureMessage[]): Promise<ArchiveSqlHarness> {
    const pg = await PGlite.create();
    await pg.exec(CREATE_MESSAGES);
    await pg.exec("CREATE INDEX messages_search ON messages USING gin (search_vector)");
    const harness = new ArchiveSqlHarness(pg);
    for (const row of rows) {
      await harness.run(sql`INSERT INTO messages (tenant_id, message_id, subject, from_address, from_name, to_addresses,
        cc_addresses, date, has_attachments, attachment_names, body_text, search_vector)
        VALUES ('00000000-0000-4000-8000-000000000001', ${row.label}, ${row.subject}, ${row.fromAddress}, ${row.fromName},
        ${[...row.toAddresses]}::text[], ${[...row.ccAddresses]}::text[], ${row.date}::timestamptz,
        ${row.hasAttachments ?? row.attachmentNames.length > 0}, ${[...row.attachmentNames]}::text[], ${row.bodyText},
        ${buildSearchVectorSql(row)})`);
    }
    return harness;
  }

  /** Compile and run a fragment; answers the rows. */
  async run<Row = Record<string, unknown>>(fragment: RawBuilder<unknown>): Promise<Row[]> {
    const compiled = fragment.compile(compilerOnly);
    const result = await this.pg.query<Row>(compiled.sql, [...compiled.parameters]);
    return result.rows;
  }

  /** Labels of the rows matching `where`, sorted. */
  async labels(where: RawBuilder<boolean>): Promise<string[]> {
    const rows = await this.run<{ message_id: string }>(
      sql`SELECT message_id FROM messages WHERE ${where} ORDER BY message_id`,
    );
    return rows.map((row) => row.message_id);
  }

  /** Close PGlite (an open instance keeps the process alive). */
  async close(): Promise<void> {
    await this.pg.close();
  }
}
