import { parseArgs } from "node:util";
import { ROLE_PERMISSIONS } from "../../shared/permissions";
import { groupName } from "../../shared/schemas/organisation";
import { createPartner, deletePartner, renamePartner } from "../commands/organisation/partners";
import { listPartners, listTeams, partnerByName, teamByName } from "../commands/organisation/queries";
import { createTeam, deleteTeam, updateTeam } from "../commands/organisation/teams";
import { counted } from "../commands/organisation/names";
import type { Actor, Services } from "../context";
import type { CliOutput } from "./commands";

/** A name as the API takes it (trimmed, 1 to 100 characters), from the words given; null with a usage line printed. */
function nameFrom(words: string[], usage: string, out: CliOutput): string | null {
  const parsed = groupName.safeParse(words.join(" "));
  if (parsed.success) return parsed.data;
  out.print(words.length > 0 ? `${parsed.error.issues[0]?.message ?? "Bad name."}\n${usage}` : usage);
  return null;
}

/**
 * The id of the partner group or team the operator named (`--partner`, `--team`), whatever its case; null, with the
 * organisation's names of that kind printed, when there is none of that name.
 */
export async function groupIdNamed(
  services: Services,
  tenantId: string,
  kind: "partner" | "team",
  name: string,
  out: CliOutput,
): Promise<string | null> {
  const reach = { kind: "tenant" } as const;
  const found =
    kind === "partner"
      ? await partnerByName(services.db, tenantId, name)
      : await teamByName(services.db, tenantId, name);
  if (found) return found.id;
  const known = (
    kind === "partner"
      ? await listPartners(services.db, tenantId, reach)
      : await listTeams(services.db, tenantId, reach)
  ).map((g) => g.name);
  const label = kind === "partner" ? "partner group" : "team";
  const plural = kind === "partner" ? "Partner groups" : "Teams";
  out.print(
    `No ${label} named "${name}". ${known.length ? `${plural}: ${known.join(", ")}` : `There is none yet: ${kind} add <name> makes one.`}`,
  );
  return null;
}

/** `partner|team rename <name> --to <new name>` and `partner|team delete <name>`, as the portal's tenant admin would. */
async function renameOrDelete(
  services: Services,
  operator: Actor,
  kind: "partner" | "team",
  verb: "rename" | "delete",
  args: string[],
  out: CliOutput,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { to: { type: "string" } },
  });
  const usage =
    verb === "rename" ? `Usage: ${kind} rename <name> --to <new name>` : `Usage: ${kind} delete <name>`;
  const current = nameFrom(positionals, usage, out);
  if (current === null) return 2;
  const label = kind === "partner" ? "partner group" : "team";
  if (verb === "rename") {
    if (values.to === undefined) {
      out.print(usage);
      return 2;
    }
    const name = nameFrom([values.to], usage, out);
    if (name === null) return 2;
    const id = await groupIdNamed(services, operator.tenantId, kind, current, out);
    if (id === null) return 2;
    const renamed =
      kind === "partner"
        ? await renamePartner(services, operator, null, id, name)
        : await updateTeam(services, operator, null, id, { name });
    out.print(`Renamed ${label} ${current} to ${renamed.name}`);
    return 0;
  }
  const id = await groupIdNamed(services, operator.tenantId, kind, current, out);
  if (id === null) return 2;
  if (kind === "partner") await deletePartner(services, operator, null, id);
  else await deleteTeam(services, operator, null, id);
  out.print(`Deleted ${label} ${current}`);
  return 0;
}

const MOVE_USAGE = "Usage: team move <name> (--partner <partner group name> | --in-house)";

/** `team move <name> --partner <name> | --in-house`: the team and its people into a partner group or in-house. */
async function moveTeamTo(
  services: Services,
  operator: Actor,
  args: string[],
  out: CliOutput,
): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { partner: { type: "string" }, "in-house": { type: "boolean" } },
  });
  const current = nameFrom(positionals, MOVE_USAGE, out);
  if (current === null) return 2;
  if ((values.partner === undefined) === (values["in-house"] !== true)) {
    out.print(MOVE_USAGE);
    return 2;
  }
  const teamId = await groupIdNamed(services, operator.tenantId, "team", current, out);
  if (teamId === null) return 2;
  let partnerId: string | null = null;
  if (values.partner !== undefined) {
    partnerId = await groupIdNamed(services, operator.tenantId, "partner", values.partner, out);
    if (partnerId === null) return 2;
  }
  const moved = await updateTeam(services, operator, null, teamId, { partnerId });
  const people = counted(moved.members, "person", "people");
  out.print(`Moved team ${moved.name} with ${people} to ${moved.partnerName ?? "in-house"}`);
  return 0;
}

/**
 * Runs `partner add|list|rename|delete` and `team add|list|rename|move|delete` as the operator at the server's console (a tenant admin's reach over
 * the default tenant, audited as system:cli); null when argv is none of them.
 */
export async function runOrganisationCommand(
  services: Services,
  actor: Actor,
  argv: string[],
  out: CliOutput,
): Promise<number | null> {
  const [area, verb, ...rest] = argv;
  if (area !== "partner" && area !== "team") return null;
  const operator: Actor = { ...actor, permissions: new Set(ROLE_PERMISSIONS.tenant_admin) };
  const reach = { kind: "tenant" } as const;
  if (area === "partner" && verb === "add") {
    const name = nameFrom(rest, "Usage: partner add <name>", out);
    if (name === null) return 2;
    const partner = await createPartner(services, operator, null, name);
    out.print(`Added partner group ${partner.name} id=${partner.id}`);
    return 0;
  }
  if (area === "partner" && verb === "list") {
    for (const p of await listPartners(services.db, actor.tenantId, reach))
      out.print(`${p.name}\t${p.members} people, ${p.teams} teams\t${p.id}`);
    return 0;
  }
  if (area === "team" && verb === "add") {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { partner: { type: "string" } },
    });
    const name = nameFrom(positionals, "Usage: team add <name> [--partner <partner group name>]", out);
    if (name === null) return 2;
    let partnerId: string | null = null;
    if (values.partner !== undefined) {
      partnerId = await groupIdNamed(services, actor.tenantId, "partner", values.partner, out);
      if (partnerId === null) return 2;
    }
    const team = await createTeam(services, operator, null, { name, partnerId });
    out.print(`Added team ${team.name} (${team.partnerName ?? "in-house"}) id=${team.id}`);
    return 0;
  }
  if (verb === "rename" || verb === "delete")
    return renameOrDelete(services, operator, area, verb, rest, out);
  if (area === "team" && verb === "move") return moveTeamTo(services, operator, rest, out);
  if (area === "team" && verb === "list") {
    for (const t of await listTeams(services.db, actor.tenantId, reach))
      out.print(
        `${t.name}\t${t.partnerName ?? "in-house"}\t${t.members} people\tleads: ${t.leads.map((l) => l.email).join(", ") || "-"}\t${t.id}`,
      );
    return 0;
  }
  return null;
}
