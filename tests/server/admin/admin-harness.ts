import { afterAll, beforeAll } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { testEngine } from "../../support/db";
import type { ApiClient } from "../../support/http";
import { buildAdminWorld, type AdminWorld } from "./admin-world";

/** What an admin test file acts through: its server, the admin world in it and a signed-in tenant admin. */
export interface AdminHarness {
  readonly server: TestServer;
  readonly world: AdminWorld;
  readonly tenantAdmin: ApiClient;
}

/**
 * Starts a server with the admin world and a signed-in tenant admin before the file's tests and stops it after, the
 * set-up every admin and race test file repeated (`postgresOnly`: on PostgreSQL only, for races that PGlite, one
 * transaction at a time, cannot run). Its fields are read inside tests and hooks, once it has started.
 */
export function useAdminHarness(options: { postgresOnly?: boolean } = {}): AdminHarness {
  let started: AdminHarness | undefined;
  beforeAll(async () => {
    if (options.postgresOnly && testEngine() !== "postgres") return;
    const server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "1000" });
    const world = await buildAdminWorld(server.mailward.services.db, server.baseUrl);
    started = { server, world, tenantAdmin: (await world.login(["tenant_admin"])).client };
  });
  afterAll(async () => {
    await started?.server.stop();
  });
  const get = (): AdminHarness => {
    if (!started) throw new Error("The admin harness has not started (a PostgreSQL-only file on PGlite?).");
    return started;
  };
  return {
    get server() {
      return get().server;
    },
    get world() {
      return get().world;
    },
    get tenantAdmin() {
      return get().tenantAdmin;
    },
  };
}
