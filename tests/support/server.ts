import { startMailward, type Mailward, type StartOptions } from "../../server/runtime";
import type { DatabaseTarget } from "../../server/db/connection";
import { freshDatabaseTarget } from "./db";
import { testConfig } from "./services";

/** An in-process Mailward on ephemeral ports with its own database. */
export interface TestServer {
  mailward: Mailward;
  baseUrl: string;
  smtpPort: number;
  /** Its database, for a second instance on the same one. */
  target: DatabaseTarget;
  stop(): Promise<void>;
}

/** Starts Mailward in this process for HTTP/SMTP tests; stop() in afterAll. */
export async function startTestServer(
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<TestServer> {
  const { target, drop } = await freshDatabaseTarget();
  const config = testConfig({
    MAILWARD_ADMIN_EMAIL: "admin@example.com",
    MAILWARD_ADMIN_PASSWORD: "correct horse battery",
    ...env,
  });
  const mailward = await startMailward(config, { database: target, adminSocket: false, ...options });
  return {
    mailward,
    baseUrl: `http://127.0.0.1:${mailward.httpPort}`,
    smtpPort: mailward.smtpPort,
    target,
    async stop() {
      await mailward.stop();
      await drop();
    },
  };
}
