import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { testServices } from "../../support/services";
import { tempDir } from "../../support/temp";
import { buildTenant, buildUser } from "../../factories";
import { importMail } from "../../../server/commands/archive/import-mail";
import { purgeArchive } from "../../../server/commands/archive/retention";
import { fileMessage } from "../../../server/mail/ingest";
import type { Services } from "../../../server/context";

// Retention of migrated mail: an archive imported today keeps each message for the policy's period from the message's
// own date, not from the day of the import (a ten-year-old message is not kept seven more years under a seven-year
// rule). Mail that came in through the gateway counts from its arrival: its Date header is the sender's to set.
let database: TestDatabase;
let services: Services;
let owner: Awaited<ReturnType<typeof buildUser>>;

const YEAR_MS = 365.25 * 24 * 60 * 60 * 1000;
const SEVEN_YEARS_DAYS = 2557;

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
  const tenant = await buildTenant(services.db, { domains: ["kept.test"] });
  owner = await buildUser(services.db, { tenantId: tenant.id, email: "rita@kept.test" });
});

afterAll(async () => {
  await database?.destroy();
});

function eml(subject: string, date: Date): Buffer {
  return Buffer.from(
    [
      "From: Old Partner <partner@elsewhere.test>",
      "To: rita@kept.test",
      `Subject: ${subject}`,
      `Date: ${date.toUTCString()}`,
      `Message-ID: <${subject.replace(/\W+/g, "-")}@elsewhere.test>`,
      "",
      `Body of ${subject}.`,
      "",
    ].join("\r\n"),
  );
}

async function subjectsLeft(): Promise<string[]> {
  const rows = await services.db
    .selectFrom("messages")
    .select("subject")
    .where("tenant_id", "=", owner.tenantId)
    .execute();
  return rows.map((r) => r.subject ?? "").sort();
}

describe("retention of imported mail", () => {
  it("counts from the message's own date, and gateway mail from its arrival", async () => {
    const now = Date.now();
    const folder = tempDir("mw-retention-import-");
    fs.writeFileSync(path.join(folder, "old.eml"), eml("ten years old", new Date(now - 10 * YEAR_MS)));
    fs.writeFileSync(path.join(folder, "recent.eml"), eml("one year old", new Date(now - YEAR_MS)));
    // A date in the future (a wrong clock) never makes a message older than its import.
    fs.writeFileSync(path.join(folder, "future.eml"), eml("dated ahead", new Date(now + 10 * YEAR_MS)));
    expect(await importMail(services, owner.actor, folder, owner.email)).toMatchObject({
      imported: 3,
      failed: 0,
    });
    // Through the gateway, a sender wrote a ten-year-old Date: it arrived today, so it is today's mail.
    await fileMessage(
      services.db,
      owner.tenantId,
      eml("claims to be old", new Date(now - 10 * YEAR_MS)),
      {
        mailFrom: "partner@elsewhere.test",
        rcptTo: [owner.email],
        direction: "inbound",
        source: "smtp",
        receivedAt: new Date(now),
      },
      [{ userId: owner.id, folder: "inbox" }],
    );
    await services.db
      .insertInto("archive_retention_policies")
      .values({ tenant_id: owner.tenantId, direction: "any", keep_days: SEVEN_YEARS_DAYS })
      .execute();

    const dry = await purgeArchive(services, owner.actor, null, true);
    expect(dry).toMatchObject({ expired: 1, keptByLegalHold: 0, keptInUse: 0 });
    const run = await purgeArchive(services, owner.actor, null, false);
    expect(run).toMatchObject({ purged: 1 });
    expect(await subjectsLeft()).toEqual(["claims to be old", "dated ahead", "one year old"]);
  });
});
