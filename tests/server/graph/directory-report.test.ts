import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../support/db";
import { buildTenant } from "../../factories";
import {
  directoryReportOf,
  emptyDirectoryReport,
  lastDirectoryRound,
  recordDirectoryRound,
} from "../../../server/graph/directory-report";

// The last directory round is kept per organisation in the database, so IT sees it after a restart and on any instance.
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.destroy();
});

describe("directory rounds", () => {
  it("keeps each organisation's last round, replacing the one before", async () => {
    const db = database.handle.db;
    const tenant = (await buildTenant(db)).id;
    const other = (await buildTenant(db)).id;
    expect(await lastDirectoryRound(db, tenant)).toBeNull();
    const first = { ...emptyDirectoryReport(), listed: 10, created: 2 };
    await recordDirectoryRound(db, tenant, new Date("2026-11-30T01:00:00Z"), first);
    const second = {
      ...emptyDirectoryReport(),
      listed: 11,
      markedLeft: 1,
      groupMembersAdded: 3,
      conflicts: [{ address: "grady@contoso.test", reason: "address_taken" as const }],
    };
    await recordDirectoryRound(db, tenant, new Date("2026-11-30T01:05:00Z"), second);
    await recordDirectoryRound(db, other, new Date("2026-11-30T01:06:00Z"), first);
    expect(await lastDirectoryRound(db, tenant)).toEqual({
      at: new Date("2026-11-30T01:05:00Z"),
      report: second,
    });
    expect(await lastDirectoryRound(db, other)).toEqual({
      at: new Date("2026-11-30T01:06:00Z"),
      report: first,
    });
  });

  it("reads a round stored before a count existed as 0, and drops conflicts it cannot name", () => {
    expect(
      directoryReportOf(
        JSON.stringify({
          listed: 5,
          disabled: "2",
          conflicts: [
            { address: "a@contoso.test", reason: "address_is_alias" },
            { address: "b@contoso.test", reason: "something_new" },
            { reason: "address_taken" },
          ],
        }),
      ),
    ).toEqual({
      ...emptyDirectoryReport(),
      listed: 5,
      conflicts: [{ address: "a@contoso.test", reason: "address_is_alias" }],
    });
    expect(directoryReportOf(null)).toEqual(emptyDirectoryReport());
  });
});
