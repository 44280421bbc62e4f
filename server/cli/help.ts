import { ROLES } from "../../shared/permissions";

/** The CLI help lines of `partner …` and `team …`. */
const ORGANISATION_HELP = `  partner add <name>             Create a BPO partner group (then invite its people into it, and make one of
                                 them partner_admin).
  partner list                   List partner groups with their people and teams.
  team add <name> [--partner <partner group name>]
        Create a team: in-house, or in a partner group.
  team list                      List teams with their partner group, people and leads.
  partner rename <name> --to <new name>
  team rename <name> --to <new name>
        Rename a partner group or a team.
  team move <name> (--partner <partner group name> | --in-house)
        Move a team with everyone in it to a partner group, or in-house.
  partner delete <name>
  team delete <name>             Delete an empty partner group or team (its people moved first, no role naming it).`;

/** The CLI's help text. */
export const HELP = `Usage: npm run mailward -- <command> [options]

Commands:
  user add <email> --role <role> [--role <role>...] [--name <display name>] [--password]
           [--partner <partner group name>] [--team <team name>]
        Create a user. --password generates a local password and prints it once.
        Roles: ${ROLES.join(", ")}
        --partner makes them one of a partner group's people (its partner_admin administers that group); without
        it they are in-house. --team places them in a team of their own group (its team_lead leads that team).
  user list                      List users with their roles.
  user reset-totp <email>        Remove someone's authenticator app and recovery codes (a lost phone) and end
                                 their sessions; they enrol a new one at their next sign-in.
${ORGANISATION_HELP}
  domain add <domain>            Add a mail domain to the tenant (vouched for: no DNS proof asked).
  domain list                    List the tenant's mail domains: verified or pending, and who is in each.
  queue                          Show the outbound queue: what waits for the next hop, and why.
  queue retry [--message <id>]   Retry deferred deliveries now (all, or one archived message's),
                                 e.g. once the next hop is back.
  import <mbox|folder> --mailbox <user email>
        File an mbox or a folder of .eml files into that user's archive.
  train <mbox|folder> --as <ham|spam|phish>
        Teach the content classifier an mbox or a folder of .eml that is all of one kind
        (known-good mail, a junk folder, a phishing collection). Nothing is archived.
  backup <new folder>            Copy the embedded database (archive, quarantine, settings, audit log) while the
                                 server keeps taking mail. Not on PostgreSQL (use pg_basebackup or pg_dump).
  restore <backup folder>        With Mailward stopped: open a copy of the backup (proving it whole), then put it in
                                 place of the embedded database, keeping the replaced one beside it.
  help                           Show this help.

Works while the server runs (through its local admin socket) and when it does not; restore only when it does not.`;

/** The words that name each command (`queue` alone is one too); what follows them is the command's arguments. */
export const CLI_COMMANDS: readonly string[] = [
  "user add",
  "user list",
  "user reset-totp",
  "partner add",
  "partner list",
  "partner rename",
  "partner delete",
  "team add",
  "team list",
  "team rename",
  "team move",
  "team delete",
  "domain add",
  "domain list",
  "queue retry",
  "import",
  "train",
  "backup",
  "restore",
];

/**
 * What the CLI makes of its arguments before loading anything: help asked for (or nothing given), a command it has,
 * or an unknown one. Help and unknown commands are answered without the server's modules or the database, so a typo
 * (or `help` on a machine where Mailward never ran) does not open, or create, the data folder.
 */
export function cliRequest(argv: readonly string[]): "help" | "command" | "unknown" {
  const [area] = argv;
  if (!area || area === "help" || area === "--help") return "help";
  if (area === "queue" && argv.length === 1) return "command";
  const named = CLI_COMMANDS.some((command) => command.split(" ").every((word, i) => argv[i] === word));
  return named ? "command" : "unknown";
}

/** The answer to a help request or an unknown command: what to print and the exit code (as `runCliCommand`'s). */
export function helpAnswer(argv: readonly string[]): { output: string; exitCode: number } {
  if (cliRequest(argv) === "help") return { output: HELP, exitCode: argv.length > 0 ? 0 : 1 };
  return { output: `Unknown command "${argv.join(" ")}".\n\n${HELP}`, exitCode: 2 };
}
