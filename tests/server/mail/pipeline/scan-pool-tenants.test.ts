import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InlineAnalyzer, TenantScanners, type ScannerEnv } from "../../../../server/mail/pipeline/analyze";
import { ClassifierRegistry } from "../../../../server/mail/pipeline/classifiers";
import { ScanPool } from "../../../../server/mail/pipeline/scan-pool";
import { createOfflineResolver } from "../../../../server/mail/scan/index";
import type { TenantContext } from "../../../../server/mail/scan/types";
import { createTestDatabase, type TestDatabase } from "../../../support/db";
import { capturingLogger } from "../../../support/logger";
import { buildRaw } from "../scan/support/messages";

// MAILWARD_SCAN_THREADS: a tenant's people reach a worker once (and again when the directory refreshed them), not
// with every message, and the worker still judges each message by the people it was last given.
let database: TestDatabase;
let pool: ScanPool;

beforeAll(async () => {
  database = await createTestDatabase();
  const env: ScannerEnv = { authservId: "mx.contoso.com" };
  const resolver = createOfflineResolver();
  const inline = new InlineAnalyzer(new TenantScanners(env, resolver, () => undefined));
  const registry = new ClassifierRegistry(database.handle.db);
  pool = new ScanPool(1, resolver, registry, env, capturingLogger().logger, inline);
});
afterAll(async () => {
  await pool?.close();
  await database?.destroy();
});

const envelope = {
  mailFrom: "boss@gmail.com",
  rcptTo: ["tess@contoso.com"],
  clientIp: "192.0.2.7",
  helo: "h",
};

async function flagged(tenant: TenantContext, displayName: string): Promise<boolean> {
  const raw = buildRaw({ from: `${displayName} <boss@gmail.com>`, to: "tess@contoso.com" });
  const { assessment } = await pool.analyze({ raw, envelope, tenantId: "t-1", tenant });
  return assessment.signals.some((s) => s.id === "impersonation.display_name");
}

describe("ScanPool and a tenant's context", () => {
  it("copies the people to a worker once, and again only when the directory refreshed them", async () => {
    const tenant: TenantContext = {
      domains: ["contoso.com"],
      people: [{ displayName: "Jane Doe", email: "jane.doe@contoso.com" }],
    };
    for (let i = 0; i < 3; i++) expect(await flagged(tenant, "Jane Doe")).toBe(true);
    expect(await flagged(tenant, "Robert Smith")).toBe(false);
    expect(pool.tenantCopies).toBe(1);

    const refreshed: TenantContext = {
      ...tenant,
      people: [{ displayName: "Robert Smith", email: "robert.smith@contoso.com" }],
    };
    expect(await flagged(refreshed, "Robert Smith")).toBe(true);
    expect(await flagged(refreshed, "Jane Doe")).toBe(false);
    expect(pool.tenantCopies).toBe(2);
  });
});
