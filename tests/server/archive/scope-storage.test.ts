import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor, Services } from "../../../server/context";
import { searchArchiveAs } from "../../../server/commands/archive/search";
import { viewArchivedMessage } from "../../../server/commands/archive/view-message";
import { fileMessage } from "../../../server/mail/ingest";
import type { Permission } from "../../../shared/permissions";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { testServices } from "../../support/services";
import { buildTenant, buildUser } from "../../factories";
import { mimeMessage, uniqueWord } from "./helpers";
import { readCorpus } from "./corpus";

let database: TestDatabase;
let services: Services;

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
});
afterAll(async () => {
  await database?.destroy();
});

const granted = (actor: Actor, permission: Permission): Actor => ({
  ...actor,
  permissions: new Set([...actor.permissions, permission]),
});
const file = (tenantId: string, raw: Buffer, userIds: string[]) =>
  fileMessage(
    services.db,
    tenantId,
    raw,
    { mailFrom: "", rcptTo: [], direction: "inbound", source: "smtp", receivedAt: new Date() },
    userIds.map((userId) => ({ userId, folder: "inbox" as const })),
  );

describe("archive.read_any (granted on purpose)", () => {
  it("reaches the tenant for an investigator, only the partner group for a partner user, and is audited", async () => {
    const db = services.db;
    const tenant = await buildTenant(db);
    const partner = await db
      .insertInto("partners")
      .values({ tenant_id: tenant.id, name: "BPO" })
      .returning("id")
      .executeTakeFirstOrThrow();
    const alice = await buildUser(db, { tenantId: tenant.id });
    const bpoAgent = await buildUser(db, { tenantId: tenant.id, partnerId: partner.id });
    const investigator = await buildUser(db, { tenantId: tenant.id });
    const bpoInvestigator = await buildUser(db, { tenantId: tenant.id, partnerId: partner.id });
    const foreign = await buildUser(db);
    const word = uniqueWord();
    const aliceMail = await file(
      tenant.id,
      mimeMessage({ to: alice.email, subject: `a ${word}`, text: word }),
      [alice.id],
    );
    const bpoMail = await file(
      tenant.id,
      mimeMessage({ to: bpoAgent.email, subject: `b ${word}`, text: word }),
      [bpoAgent.id],
    );
    await file(foreign.tenantId, mimeMessage({ to: foreign.email, subject: `f ${word}`, text: word }), [
      foreign.id,
    ]);

    const query = { q: word, limit: 50, sort: "date" as const, scope: "all" as const };
    const wide = await searchArchiveAs(
      services,
      granted(investigator.actor, "archive.read_any"),
      "10.0.0.1",
      query,
    );
    expect(wide.rows.map((r) => r.id).sort()).toEqual([aliceMail.id, bpoMail.id].sort());
    const narrow = await searchArchiveAs(
      services,
      granted(bpoInvestigator.actor, "archive.read_any"),
      null,
      query,
    );
    expect(narrow.rows.map((r) => r.id)).toEqual([bpoMail.id]);
    await expect(searchArchiveAs(services, investigator.actor, null, query)).rejects.toMatchObject({
      id: "forbidden",
    });
    const own = await searchArchiveAs(services, granted(investigator.actor, "archive.read_any"), null, {
      ...query,
      scope: "own",
    });
    expect(own.rows).toEqual([]);

    const view = await viewArchivedMessage(
      services,
      granted(investigator.actor, "archive.read_any"),
      null,
      aliceMail.id,
      false,
    );
    expect(view.message.id).toBe(aliceMail.id);
    await expect(
      viewArchivedMessage(
        services,
        granted(bpoInvestigator.actor, "archive.read_any"),
        null,
        aliceMail.id,
        false,
      ),
    ).rejects.toMatchObject({ id: "not_found" });
    const audit = await db
      .selectFrom("audit_events")
      .select(["action", "actor_id", "ip"])
      .where("tenant_id", "=", tenant.id)
      .orderBy("seq")
      .execute();
    expect(audit).toEqual([
      { action: "archive.searched_others", actor_id: investigator.id, ip: "10.0.0.1" },
      { action: "archive.searched_others", actor_id: bpoInvestigator.id, ip: null },
      { action: "archive.viewed_other", actor_id: investigator.id, ip: null },
    ]);
  });
});

describe("storage", () => {
  it("stores one compressed copy per message however many mailboxes it reaches, at ≤ 0.5× raw on real mail", async () => {
    const tenant = await buildTenant(services.db);
    const users = [
      await buildUser(services.db, { tenantId: tenant.id }),
      await buildUser(services.db, { tenantId: tenant.id }),
      await buildUser(services.db, { tenantId: tenant.id }),
    ];
    const corpus = await readCorpus("spamassassin", "ham", 1, 120);
    let raw = 0;
    for (const message of corpus) {
      // The gateway files a message once per delivery; three recipients, three arrivals.
      for (const user of users) await file(tenant.id, message.raw, [user.id]);
      raw += message.raw.length * users.length;
    }
    const blobs = await services.db
      .selectFrom("message_blobs")
      .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.sum<number>("stored_size").as("stored")])
      .where("tenant_id", "=", tenant.id)
      .executeTakeFirstOrThrow();
    const messages = await services.db
      .selectFrom("messages")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("tenant_id", "=", tenant.id)
      .executeTakeFirstOrThrow();
    const links = await services.db
      .selectFrom("mailbox_links")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("tenant_id", "=", tenant.id)
      .executeTakeFirstOrThrow();
    const distinct = new Set(corpus.map((m) => m.raw.toString("base64"))).size;
    expect(Number(blobs.n)).toBe(distinct);
    expect(Number(messages.n)).toBe(distinct);
    expect(Number(links.n)).toBe(distinct * users.length);
    const ratio = Number(blobs.stored) / raw;
    const single = Number(blobs.stored) / (raw / users.length);
    expect(single).toBeLessThanOrEqual(0.5); // compression alone, one delivery each
    expect(ratio).toBeLessThan(single / 2); // single instance on top of it
  });
});
