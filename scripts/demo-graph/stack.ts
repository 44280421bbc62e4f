import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { systemActor } from "../../server/auth/actor";
import { setTenantMode } from "../../server/commands/graph/mode";
import { addUser } from "../../server/commands/users/add-user";
import { loadConfig } from "../../server/config";
import { ApiError } from "../../server/http/errors";
import { createLogger } from "../../server/logger";
import { startMailward, type Mailward } from "../../server/runtime";
import {
  createMsalNetworkClient,
  DEFAULT_CLIENT_SECRET,
  startEntraFake,
  type EntraFake,
} from "../../tests/fakes/entra";
import {
  createGraphFetch,
  GRAPH_PUBLIC_BASE_URL,
  startGraphFake,
  type GraphFake,
} from "../../tests/fakes/graph";

/** The demo tenant's mail domain (the fakes' mailboxes and Mailward's tenant share it). */
export const DEMO_DOMAIN = "contoso.test";

/** The hidden folder held mail is moved to (Mailward's default MAILWARD_GRAPH_QUARANTINE_FOLDER). */
export const QUARANTINE_FOLDER = "Mailward Quarantine";

/** The seeded administrator's address (also a watched mailbox, so the portal shows them their own held mail). */
export const DEMO_ADMIN = `admin@${DEMO_DOMAIN}`;

/** The watched mailboxes: fixed Graph ids, so a reused --data folder still matches the (new) fake. */
export const DEMO_MAILBOXES = [
  { id: "6e2f4a1c-0b1d-4c55-9a57-0d4c3a0e1a01", address: `adele@${DEMO_DOMAIN}`, name: "Adele Vance" },
  { id: "6e2f4a1c-0b1d-4c55-9a57-0d4c3a0e1a02", address: `megan@${DEMO_DOMAIN}`, name: "Megan Bowen" },
  { id: "6e2f4a1c-0b1d-4c55-9a57-0d4c3a0e1a03", address: DEMO_ADMIN, name: "Administrator" },
] as const;

/** How to run the stack: data folder (null: a temporary one), HTTP port, Mailward's log level. */
export interface DemoStackOptions {
  dataDir: string | null;
  httpPort: number;
  logLevel: string;
}

/** The running demo: both fakes, Mailward in Graph mode, and how to sign in. */
export interface DemoStack {
  entra: EntraFake;
  graph: GraphFake;
  mailward: Mailward;
  baseUrl: string;
  dataDir: string;
  /** The seeded administrator; password null when a reused data folder already had one. */
  admin: { email: string; password: string | null };
  stop(): Promise<void>;
}

/**
 * Starts the Entra fake, the Graph fake (with the demo mailboxes) and Mailward in-process on an embedded
 * PGlite, wired to the fakes exactly as the Graph tests do (msal network client, Graph fetch, local webhooks);
 * then adds the mailboxes' people (agents without a password) and switches the tenant to graph mode.
 */
export async function startDemoStack(options: DemoStackOptions): Promise<DemoStack> {
  const temporary = options.dataDir === null;
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "mailward-demo-"));
  const reused = fs.existsSync(path.join(dataDir, "pglite"));
  const entra = await startEntraFake();
  const graph = await startGraphFake({
    entra,
    linkBaseUrl: GRAPH_PUBLIC_BASE_URL,
    users: DEMO_MAILBOXES.map((m) => ({ id: m.id, userPrincipalName: m.address, displayName: m.name })),
  });
  const admin = {
    email: `admin@${DEMO_DOMAIN}`,
    password: reused ? null : randomBytes(12).toString("base64url"),
  };
  const port = options.httpPort;
  const config = loadConfig({
    MAILWARD_HTTP_PORT: String(port),
    MAILWARD_HTTP_HOST: "127.0.0.1",
    MAILWARD_SMTP_PORT: "0",
    MAILWARD_SMTP_HOST: "127.0.0.1",
    MAILWARD_DATA_DIR: dataDir,
    MAILWARD_PUBLIC_URL: `http://localhost:${port === 0 ? 3000 : port}`,
    MAILWARD_TENANT_NAME: "Contoso (demo)",
    MAILWARD_TENANT_DOMAINS: DEMO_DOMAIN,
    MAILWARD_ADMIN_EMAIL: admin.email,
    ...(admin.password ? { MAILWARD_ADMIN_PASSWORD: admin.password } : {}),
    // A demo sign-in without enrolling an authenticator first (production keeps "required").
    MAILWARD_ADMIN_TOTP: "optional",
    MAILWARD_DNS: "offline",
    MAILWARD_GRAPH_TENANT_ID: entra.tenantId,
    MAILWARD_GRAPH_CLIENT_ID: entra.apiClientId,
    MAILWARD_GRAPH_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
    MAILWARD_GRAPH_MAILBOXES: DEMO_MAILBOXES.map((m) => m.address).join(","),
    MAILWARD_GRAPH_QUARANTINE_FOLDER: QUARANTINE_FOLDER,
    MAILWARD_GRAPH_POLL_MS: "200",
    MAILWARD_GRAPH_SWEEP_SECONDS: "60",
  });
  const cleanUp = async (mailward?: Mailward) => {
    await mailward?.stop();
    await graph.close();
    await entra.close();
    if (temporary) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  let mailward: Mailward | undefined;
  try {
    mailward = await startMailward(config, {
      logger: createLogger(options.logLevel, process.stderr),
      database: { kind: "pglite", dataDir },
      graph: {
        transport: { fetch: createGraphFetch(graph), networkClient: createMsalNetworkClient(entra) },
        webhookBaseUrl: (httpPort) => `http://127.0.0.1:${httpPort}`,
      },
    });
    await seedTenant(mailward);
  } catch (error) {
    await cleanUp(mailward);
    throw error;
  }
  const running = mailward;
  let stopping: Promise<void> | null = null;
  return {
    entra,
    graph,
    mailward: running,
    baseUrl: `http://localhost:${running.httpPort}`,
    dataDir,
    admin,
    stop() {
      stopping ??= cleanUp(running);
      return stopping;
    },
  };
}

/** Adds the mailboxes' people (agents without a password) and switches the default tenant to graph mode. */
async function seedTenant(mailward: Mailward): Promise<void> {
  const { services } = mailward;
  const tenant = await services.db
    .selectFrom("tenants")
    .select("id")
    .orderBy("created_at")
    .executeTakeFirstOrThrow();
  const actor = systemActor(tenant.id, "demo");
  for (const mailbox of DEMO_MAILBOXES.filter((m) => m.address !== DEMO_ADMIN)) {
    try {
      await addUser(services, actor, null, {
        email: mailbox.address,
        displayName: mailbox.name,
        roles: ["agent"],
      });
    } catch (error) {
      if (!(error instanceof ApiError && error.id === "already_exists")) throw error;
    }
  }
  await setTenantMode(services, actor, null, "graph");
}
