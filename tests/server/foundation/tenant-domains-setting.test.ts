import { describe, expect, it } from "vitest";
import { startMailward } from "../../../server/runtime";
import { capturingLogger } from "../../support/logger";
import { dataFolderConfig } from "../../support/services";
import { freshDatabaseTarget } from "../../support/db";
import { tempDir } from "../../support/temp";
import { rawSession } from "../mail/gateway/helpers";
import { runCliCommand } from "../../../server/cli/commands";

interface LoggedLine {
  level: number;
  msg: string;
  domains?: string[];
}

/** The warnings a capturing logger kept about MAILWARD_TENANT_DOMAINS, parsed. */
const domainWarnings = (lines: string[]): LoggedLine[] =>
  lines
    .map((line) => JSON.parse(line) as LoggedLine)
    .filter((entry) => entry.level === 40 && entry.msg.includes("MAILWARD_TENANT_DOMAINS"));

/** The gateway's answers to RCPT TO for each address, in one session. */
async function rcptAnswers(port: number, addresses: string[]): Promise<string[]> {
  const session = await rawSession(port);
  try {
    expect(await session.say("EHLO client.test")).toMatch(/^250/m);
    expect(await session.say("MAIL FROM:<someone@outside.test>")).toMatch(/^250/);
    const answers: string[] = [];
    for (const address of addresses) answers.push(await session.say(`RCPT TO:<${address}>`));
    return answers;
  } finally {
    session.socket.destroy();
  }
}

// The domains of MAILWARD_TENANT_DOMAINS are taken on the first start only: a domain IT removed later must not come
// back with a restart. An operator who adds one to the setting afterwards is told why its mail is refused.
describe("MAILWARD_TENANT_DOMAINS on a later start", () => {
  it("warns, naming the domains the organisation does not take and how to add them, and adds none", async () => {
    const dataDir = tempDir("mw-domains-");
    const { target, drop } = await freshDatabaseTarget();
    try {
      const quiet = capturingLogger("warn");
      const first = await startMailward(
        dataFolderConfig(dataDir, { MAILWARD_TENANT_DOMAINS: "first.example" }),
        {
          database: target,
          adminSocket: false,
          logger: quiet.logger,
        },
      );
      await first.stop();
      expect(domainWarnings(quiet.lines)).toEqual([]);

      const { logger, lines } = capturingLogger("warn");
      const later = await startMailward(
        dataFolderConfig(dataDir, { MAILWARD_TENANT_DOMAINS: "first.example, Later.Example" }),
        { database: target, adminSocket: false, logger },
      );
      try {
        expect(domainWarnings(lines)).toEqual([
          expect.objectContaining({ domains: ["later.example"], msg: expect.stringContaining("domain add") }),
        ]);
        // The domain of the first start still takes mail: an unknown person there is a 550, not a relay's 554.
        const [added, known] = await rcptAnswers(later.smtpPort, [
          "anyone@later.example",
          "nobody@first.example",
        ]);
        expect([added?.slice(0, 3), known?.slice(0, 3)]).toEqual(["554", "550"]);
      } finally {
        await later.stop();
      }
    } finally {
      await drop();
    }
  });

  it("warns at each start while the organisation takes mail for no domain, and not once it has one", async () => {
    const dataDir = tempDir("mw-domains-");
    const { target, drop } = await freshDatabaseTarget();
    try {
      const { logger, lines } = capturingLogger("warn");
      const bare = await startMailward(dataFolderConfig(dataDir, { MAILWARD_TENANT_DOMAINS: "" }), {
        database: target,
        adminSocket: false,
        logger,
      });
      try {
        expect(domainWarnings(lines)).toEqual([
          expect.objectContaining({ msg: expect.stringMatching(/no mail domain.*domain add/) }),
        ]);
        // The first administrator's own address is no exception: nothing takes mail.
        expect((await rcptAnswers(bare.smtpPort, ["admin@example.com"]))[0]?.slice(0, 3)).toBe("554");
        const printed: string[] = [];
        const print = (line: string) => void printed.push(line);
        expect(await runCliCommand(bare.services, ["domain", "add", "example.com"], { print }, ".")).toBe(0);
      } finally {
        await bare.stop();
      }
      const after = capturingLogger("warn");
      const later = await startMailward(dataFolderConfig(dataDir, { MAILWARD_TENANT_DOMAINS: "" }), {
        database: target,
        adminSocket: false,
        logger: after.logger,
      });
      await later.stop();
      expect(domainWarnings(after.lines)).toEqual([]);
    } finally {
      await drop();
    }
  });
});
