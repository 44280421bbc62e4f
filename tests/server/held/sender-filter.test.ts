import { Migrator, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrations } from "../../../server/db/migrations/index";
import { migrateToLatest } from "../../../server/db/migrate";
import { buildArchivedMessage, buildRawMessage } from "../../factories";
import { emptyDatabase } from "../../support/db";
import { startSelfServiceFixture, type SelfServiceFixture } from "./support";

// GET /api/held?sender=: an address, or a domain with its subdomains, read on the held item's copy of its message's
// From address (migration 3330) instead of on the joined message.
let f: SelfServiceFixture;
let agent: Awaited<ReturnType<SelfServiceFixture["user"]>>;
let admin: Awaited<ReturnType<SelfServiceFixture["user"]>>;
const ids: Record<string, string> = {};
const froms: Record<string, string> = {
  exact: "Billing <billing@b.example>",
  sub: "News <news@mail.b.example>",
  shouting: "Loud <LOUD@Deep.Mail.B.EXAMPLE>",
  lookalike: "Fake <billing@xb.example>",
  localPart: "Tricky <b.example@evil.example>",
  longer: "Other <billing@b.example.evil>",
  underscore: "U <u@a_b.example>",
  notUnderscore: "V <v@axb.example>",
  percent: "P <p_q@pct.example>",
  percentOther: "Q <pxq@pct.example>",
};

type Client = Awaited<ReturnType<SelfServiceFixture["user"]>>["client"];
const filtered = async (client: Client, query: string) => {
  const res = await client.request("GET", `/api/held?${query}&limit=200`);
  expect(res.status).toBe(200);
  const items = (res.json.items ?? []) as Array<{ id: string }>;
  return items.map((i) => i.id).filter((id) => Object.values(ids).includes(id));
};
const keysOf = (found: string[]) => found.map((id) => Object.keys(ids).find((key) => ids[key] === id)).sort();

beforeAll(async () => {
  f = await startSelfServiceFixture();
  agent = await f.user();
  admin = await f.user({ roles: ["security_admin"] });
  for (const [key, from] of Object.entries(froms))
    ids[key] = (await f.held({ userId: agent.id, recipient: agent.email, from })).id;
});
afterAll(async () => {
  await f?.server.stop();
});

describe("GET /api/held?sender=", () => {
  it("matches a domain and its subdomains in every case, never a domain ending the same or a local part", async () => {
    for (const client of [agent.client, admin.client]) {
      const scope = client === admin.client ? "scope=review&" : "";
      expect(keysOf(await filtered(client, `${scope}sender=b.example`))).toEqual([
        "exact",
        "shouting",
        "sub",
      ]);
      expect(keysOf(await filtered(client, `${scope}sender=B.Example`))).toEqual([
        "exact",
        "shouting",
        "sub",
      ]);
      expect(keysOf(await filtered(client, `${scope}sender=*.b.example`))).toEqual([
        "exact",
        "shouting",
        "sub",
      ]);
      expect(keysOf(await filtered(client, `${scope}sender=mail.b.example`))).toEqual(["shouting", "sub"]);
      expect(keysOf(await filtered(client, `${scope}sender=example`))).toEqual(
        [
          "exact",
          "lookalike",
          "localPart",
          "notUnderscore",
          "percent",
          "percentOther",
          "shouting",
          "sub",
          "underscore",
        ].sort(),
      );
    }
  });

  it("takes _ and % in a domain as themselves, not as LIKE wildcards", async () => {
    expect(keysOf(await filtered(agent.client, "sender=a_b.example"))).toEqual(["underscore"]);
    expect(keysOf(await filtered(agent.client, "sender=a%25b.example"))).toEqual([]);
    expect(keysOf(await filtered(agent.client, "sender=%25.example"))).toEqual([]);
    expect(keysOf(await filtered(agent.client, "sender=%25"))).toEqual([]);
    expect(keysOf(await filtered(agent.client, "sender=_.example"))).toEqual([]);
  });

  it("matches an address whole and in every case: not a longer local part, not a subdomain's", async () => {
    expect(keysOf(await filtered(admin.client, "scope=review&sender=Billing%40B.example"))).toEqual([
      "exact",
    ]);
    expect(keysOf(await filtered(agent.client, "sender=news%40mail.b.example"))).toEqual(["sub"]);
    expect(keysOf(await filtered(agent.client, "sender=news%40b.example"))).toEqual([]);
    expect(keysOf(await filtered(agent.client, "sender=illing%40b.example"))).toEqual([]);
    expect(keysOf(await filtered(agent.client, "sender=p_q%40pct.example"))).toEqual(["percent"]);
    expect(keysOf(await filtered(agent.client, "sender=p%25q%40pct.example"))).toEqual([]);
  });

  it("combines with free text, in the sort's order", async () => {
    for (const sort of ["newest", "oldest"]) {
      const all = await filtered(agent.client, `sort=${sort}`);
      const wanted = all.filter((id) => [ids.exact, ids.sub, ids.shouting].includes(id));
      expect(await filtered(agent.client, `sort=${sort}&sender=b.example&q=e`)).toEqual(wanted);
    }
    expect(keysOf(await filtered(admin.client, "scope=review&sender=b.example&q=loud"))).toEqual([
      "shouting",
    ]);
  });

  it("keeps the copy of the From address to its message's, whatever an insert or update writes", async () => {
    const copy = async (id: string) =>
      (
        await sql<{
          from_lower: string | null;
        }>`SELECT from_lower FROM held_items WHERE id = ${id}`.execute(f.db)
      ).rows[0]?.from_lower;
    expect(await copy(ids.shouting!)).toBe("loud@deep.mail.b.example");
    await sql`UPDATE held_items SET from_lower = 'x@b.example' WHERE id = ${ids.lookalike}`.execute(f.db);
    expect(await copy(ids.lookalike!)).toBe("billing@xb.example");
    const other = await buildArchivedMessage(f.db, {
      tenantId: f.tenantId,
      raw: buildRawMessage({ from: "Moved <moved@b.example>", to: agent.email, subject: "Moved" }),
    });
    // The parser stores addresses in lower case; an archive row from elsewhere (or older) may not be.
    await sql`UPDATE messages SET from_address = 'Moved@Mail.B.Example' WHERE id = ${other.id}`.execute(f.db);
    const { rows } = await sql<{ id: string }>`
      INSERT INTO held_items (tenant_id, message_id, user_id, recipient, reason, expires_at, from_lower)
      VALUES (${f.tenantId}, ${other.id}, ${agent.id}, ${agent.email}, 'spam', now() + interval '1 day', 'a@elsewhere.example')
      RETURNING id`.execute(f.db);
    expect(await copy(rows[0]!.id)).toBe("moved@mail.b.example");
    ids.moved = rows[0]!.id;
    expect(keysOf(await filtered(agent.client, "sender=B.example"))).toEqual([
      "exact",
      "moved",
      "shouting",
      "sub",
    ]);
    expect(keysOf(await filtered(agent.client, "sender=moved%40mail.b.example"))).toEqual(["moved"]);
  });
});

describe("migration 3330", () => {
  it("copies the From address of the holds made before it, so the filter finds them", async () => {
    const empty = await emptyDatabase();
    try {
      const { db } = empty;
      const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
      expect((await migrator.migrateTo("3320_users_address_index")).error).toBeUndefined();
      const { rows } = await sql<{
        id: string;
      }>`INSERT INTO tenants (name) VALUES ('Old') RETURNING id`.execute(db);
      const tenantId = rows[0]!.id;
      const message = await buildArchivedMessage(db, {
        tenantId,
        raw: buildRawMessage({ from: "Old <Old@Mail.B.Example>", to: "agent@old.example", subject: "Old" }),
      });
      await sql`UPDATE messages SET from_address = 'Old@Mail.B.Example' WHERE id = ${message.id}`.execute(db);
      await sql`INSERT INTO held_items (tenant_id, message_id, recipient, reason, expires_at)
        VALUES (${tenantId}, ${message.id}, 'agent@old.example', 'spam', now() + interval '1 day')`.execute(
        db,
      );

      expect(await migrateToLatest(db)).toContain("3330_held_sender");
      const held = await sql<{ from_lower: string | null }>`SELECT from_lower FROM held_items`.execute(db);
      expect(held.rows).toEqual([{ from_lower: "old@mail.b.example" }]);
    } finally {
      await empty.close();
    }
  });
});
