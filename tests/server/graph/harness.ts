import { sql } from "kysely";
import type { Services } from "../../../server/context";
import type { StartOptions } from "../../../server/runtime";
import { graphOf } from "../../../server/graph/runtime";
import { buildTenant, buildUser } from "../../factories";
import { ApiClient } from "../../support/http";
import type { TestServer } from "../../support/server";
import { eventually, type GraphTestKit } from "./kit";

/** The Graph options a test server needs to reach the fakes and be reachable by them. */
export function graphStartOptions(kit: GraphTestKit): StartOptions {
  return {
    graph: {
      transport: { fetch: kit.fetch, networkClient: kit.networkClient },
      webhookBaseUrl: (port) => `http://127.0.0.1:${port}`,
    },
  };
}

/** Settings for a Graph-mode test server (fast polling, a long sweep unless a test wants it short). */
export function graphTestEnv(kit: GraphTestKit, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...kit.env,
    MAILWARD_TENANT_DOMAINS: "contoso.test",
    MAILWARD_GRAPH_POLL_MS: "200",
    MAILWARD_GRAPH_SWEEP_SECONDS: "600",
    ...extra,
  };
}

/** The default tenant's id. */
export async function defaultTenantId(services: Services): Promise<string> {
  return (
    await services.db.selectFrom("tenants").select("id").orderBy("created_at").executeTakeFirstOrThrow()
  ).id;
}

/** A Mailward user with a password, for mailboxes the fake also has. */
export async function mailboxUser(
  services: Services,
  email: string,
  displayName: string,
): Promise<{ id: string; client: (baseUrl: string) => Promise<ApiClient> }> {
  const password = "correct horse battery staple";
  const user = await buildUser(services.db, {
    tenantId: await defaultTenantId(services),
    email,
    displayName,
    password,
  });
  return {
    id: user.id,
    client: async (baseUrl) => {
      const client = new ApiClient(baseUrl);
      const login = await client.login(email, password);
      if (login.status !== 200) throw new Error(`login of ${email} failed: ${login.status}`);
      return client;
    },
  };
}

/** Switches the default tenant to a mode as its admin, through the API. */
export async function switchMode(baseUrl: string, mode: "gateway" | "graph" | "both"): Promise<void> {
  const admin = new ApiClient(baseUrl);
  await admin.login("admin@example.com", "correct horse battery");
  const res = await admin.request("PUT", "/api/admin/graph/mode", { mode });
  if (res.status !== 200) throw new Error(`mode switch failed: ${res.status} ${res.text}`);
}

/** Waits until both folder subscriptions of a mailbox exist at the fake and in our database. */
export async function waitForSubscriptions(
  kit: GraphTestKit,
  services: Services,
  graphUserId: string,
  count = 2,
): Promise<void> {
  await eventually(
    () => kit.graph.subscriptions().filter((s) => s.userId === graphUserId).length >= count,
    30_000,
    "subscriptions at Graph",
  );
  await eventually(
    async () => {
      const rows = await services.db
        .selectFrom("graph_subscriptions")
        .innerJoin("graph_mailboxes", "graph_mailboxes.id", "graph_subscriptions.mailbox_id")
        .select("graph_subscriptions.id")
        .where("graph_mailboxes.graph_user_id", "=", graphUserId)
        .execute();
      return rows.length >= count;
    },
    30_000,
    "subscriptions stored",
  );
}

/**
 * Where most graph tests begin: `email` made a mailbox user, the organisation switched to graph mode, and that
 * mailbox's folder subscriptions made (at the fake and in our database). `upn` names the fake's user when the
 * mailbox's address is not its user principal name. Returns the mailbox user, for a signed-in client.
 */
export async function graphModeWithMailbox(
  kit: GraphTestKit,
  server: TestServer,
  email: string,
  displayName: string,
  upn = email,
): Promise<Awaited<ReturnType<typeof mailboxUser>>> {
  const services = server.mailward.services;
  const user = await mailboxUser(services, email, displayName);
  await switchMode(server.baseUrl, "graph");
  await waitForSubscriptions(kit, services, kit.graph.user(upn).id);
  return user;
}

/** The ledger row of a message (by immutable id), once processed. */
export async function processed(services: Services, graphMessageId: string, timeoutMs = 30_000) {
  return eventually(
    () =>
      services.db
        .selectFrom("graph_messages")
        .selectAll()
        .where("graph_message_id", "=", graphMessageId)
        .where("state", "!=", "claimed")
        .executeTakeFirst(),
    timeoutMs,
    `processing of ${graphMessageId.slice(0, 12)}`,
  );
}

/** Waits until no notification or action is pending and the fake has delivered every notification. */
export async function settled(kit: GraphTestKit, services: Services, timeoutMs = 60_000): Promise<void> {
  await kit.graph.notificationsSettled();
  await eventually(
    async () => {
      const busy = await sql<{
        n: number;
      }>`select (select count(*) from graph_notifications where state in ('pending','processing'))::int + (select count(*) from graph_actions where state in ('pending','processing'))::int as n`.execute(
        services.db,
      );
      return (busy.rows[0]?.n ?? 1) === 0;
    },
    timeoutMs,
    "graph work to settle",
  );
}

/** Runs the connector's notification and action rounds until both are idle (instead of waiting for polls). */
export async function drain(services: Services): Promise<void> {
  const jobs = graphOf(services)?.jobs();
  if (!jobs) throw new Error("graph runtime not started");
  for (let i = 0; i < 50; i += 1) {
    const done = (await jobs.notifications.runOnce()) + (await jobs.actions.runOnce());
    if (done === 0) return;
  }
}

/** One sweep of the watched mailboxes (enrolment, subscriptions, catch-ups), run now and waited for. */
export async function sweepMailboxes(services: Services): Promise<void> {
  await graphOf(services)!.sync.sweep();
}

/** A second organisation, in graph mode, with one agent at `email`: its directory is mapped by mapToDirectory. */
export async function secondGraphOrganisation(
  services: Services,
  domain: string,
  email: string,
): Promise<string> {
  const tenantId = (await buildTenant(services.db, { domains: [domain] })).id;
  await services.db.updateTable("tenants").set({ mode: "graph" }).where("id", "=", tenantId).execute();
  await buildUser(services.db, { tenantId, email, roles: ["agent"] });
  return tenantId;
}

/** Maps an organisation to a directory (or takes its mapping away), then sweeps. */
export async function mapToDirectory(
  services: Services,
  tenantId: string,
  directory: string | null,
): Promise<void> {
  await services.db
    .updateTable("tenants")
    .set({ entra_tenant_id: directory })
    .where("id", "=", tenantId)
    .execute();
  await sweepMailboxes(services);
}
