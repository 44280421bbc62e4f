import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCliCommand } from "../../../server/cli/commands";
import { CLI_COMMANDS, cliRequest, HELP, helpAnswer } from "../../../server/cli/help";
import { startTestServer, type TestServer } from "../../support/server";

// The CLI answers help and unknown commands before loading the server (server/cli/main.ts): its list of commands
// must be the commands runCliCommand carries out and the help names, or a real command would be refused as unknown.

/** The command words of each help line ("  queue retry [--message <id>]  Retry…" → "queue retry"). */
function commandsInHelp(): string[] {
  return HELP.split("\n")
    .filter((line) => /^ {2}[a-z]/.test(line))
    .map((line) => {
      const words: string[] = [];
      for (const word of line.trim().split(/\s+/)) {
        if (!/^[a-z-]+$/.test(word)) break;
        words.push(word);
      }
      return words.join(" ");
    });
}

describe("what the CLI makes of its arguments before loading anything", () => {
  it("asks for help with nothing, help or --help", () => {
    expect(cliRequest([])).toBe("help");
    expect(cliRequest(["help"])).toBe("help");
    expect(cliRequest(["--help"])).toBe("help");
    expect(helpAnswer([])).toEqual({ output: HELP, exitCode: 1 });
    expect(helpAnswer(["help"])).toEqual({ output: HELP, exitCode: 0 });
  });

  it("knows every command the help names, with or without its arguments", () => {
    const named = commandsInHelp().filter((command) => command !== "help");
    expect(named.length).toBeGreaterThanOrEqual(CLI_COMMANDS.length);
    for (const command of named) {
      expect(cliRequest(command.split(" ")), command).toBe("command");
      // `queue` alone takes no arguments: `queue <anything>` is no command (runCliCommand refuses it too).
      if (command !== "queue")
        expect(cliRequest([...command.split(" "), "--x", "y"]), command).toBe("command");
    }
    expect([...new Set(named)].sort()).toEqual([...CLI_COMMANDS, "queue"].sort());
  });

  it("refuses unknown words, an area without its verb, and an unknown verb", () => {
    for (const argv of [
      ["frobnicate"],
      ["user"],
      ["user", "remove", "a@b.c"],
      ["queue", "flush"],
      ["domain"],
    ]) {
      expect(cliRequest(argv), argv.join(" ")).toBe("unknown");
      expect(helpAnswer(argv)).toEqual({
        output: `Unknown command "${argv.join(" ")}".\n\n${HELP}`,
        exitCode: 2,
      });
    }
  });
});

describe("the commands the CLI knows are the ones it carries out", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** Arguments a command needs to get past its own usage line (domain add reads its domain before anything). */
  const ARGUMENTS: Record<string, string[]> = { "domain add": ["cli-help.example"] };

  it("runs each listed command (or prints its usage), never 'Unknown command'", async () => {
    for (const command of [...CLI_COMMANDS, "queue"]) {
      const lines: string[] = [];
      const argv = [...command.split(" "), ...(ARGUMENTS[command] ?? [])];
      await runCliCommand(server.mailward.services, argv, { print: (line) => lines.push(line) }, ".");
      expect(lines.join("\n"), command).not.toMatch(/^Unknown command/);
    }
  });

  it("answers an unknown command as the early answer does", async () => {
    const lines: string[] = [];
    const code = await runCliCommand(
      server.mailward.services,
      ["user", "remove"],
      { print: (l) => lines.push(l) },
      ".",
    );
    expect({ output: lines.join("\n"), exitCode: code }).toEqual(helpAnswer(["user", "remove"]));
  });
});
