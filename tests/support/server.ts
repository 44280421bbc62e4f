import { startMailward, type Mailward, type StartOptions } from "../../server/runtime";
import type { Config } from "../../server/config";
import type { DatabaseTarget } from "../../server/db/connection";
import { freshDatabaseTarget } from "./db";
import { testConfig } from "./services";
import { startTcpProxyFor, type TcpProxy } from "./tcp-proxy";

/** An in-process Mailward on ephemeral ports with its own database. */
export interface TestServer {
  mailward: Mailward;
  baseUrl: string;
  smtpPort: number;
  /** Its database, for a second instance on the same one. */
  target: DatabaseTarget;
  stop(): Promise<void>;
}

/** A TestServer whose database connections all go through a TCP proxy that can go silent or forget its flows. */
export interface ProxiedTestServer extends TestServer {
  proxy: TcpProxy;
}

function serverConfig(env: Record<string, string>): Config {
  return testConfig({
    MAILWARD_ADMIN_EMAIL: "admin@example.com",
    MAILWARD_ADMIN_PASSWORD: "correct horse battery",
    ...env,
  });
}

/** Starts Mailward in this process for HTTP/SMTP tests; stop() in afterAll. */
export async function startTestServer(
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<TestServer> {
  const { target, drop } = await freshDatabaseTarget();
  const mailward = await startMailward(serverConfig(env), {
    database: target,
    adminSocket: false,
    ...options,
  });
  return testServerOf(mailward, target, async () => {
    await mailward.stop();
    await drop();
  });
}

function testServerOf(mailward: Mailward, target: DatabaseTarget, stop: () => Promise<void>): TestServer {
  return {
    mailward,
    baseUrl: `http://127.0.0.1:${mailward.httpPort}`,
    smtpPort: mailward.smtpPort,
    target,
    stop,
  };
}

/**
 * Starts Mailward as startTestServer does, its database reached through a real TCP proxy in front of the real
 * PostgreSQL (tcp-proxy.ts), for what a lost network path does. PostgreSQL only (DATABASE_URL). Its stop closes the
 * proxy first, which fails whatever still waits on a dead flow, so the stop does not wait on them.
 */
export async function startTestServerBehindProxy(
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<ProxiedTestServer> {
  const { target, drop } = await freshDatabaseTarget();
  if (target.kind !== "postgres") {
    await drop();
    throw new Error("a proxied database needs PostgreSQL (DATABASE_URL)");
  }
  const { proxy, url } = await startTcpProxyFor(target.url);
  const mailward = await startMailward(serverConfig(env), {
    database: { kind: "postgres", url },
    adminSocket: false,
    ...options,
  });
  const server = testServerOf(mailward, target, async () => {
    await proxy.close();
    await mailward.stop();
    await drop();
  });
  return { ...server, proxy };
}
