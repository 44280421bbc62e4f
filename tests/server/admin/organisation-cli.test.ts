import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../support/server";
import { runCli } from "../../support/cli";
import { defaultTenantId } from "../auth/auth-helpers";

// The operator sets up partner groups and teams from the server's console, as the portal's tenant admin would.
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const db = () => server.mailward.services.db;

function cli(...args: string[]) {
  return runCli(server.mailward.services, args);
}

async function auditActions(targetId: string): Promise<Array<{ action: string; actor_label: string }>> {
  return db()
    .selectFrom("audit_events")
    .select(["action", "actor_label"])
    .where("target_id", "=", targetId)
    .execute();
}

describe("mailward partner add|list, team add|list", () => {
  it("adds a partner group and teams in it or in-house, and lists them", async () => {
    const tenantId = await defaultTenantId(db());
    const tag = randomUUID().slice(0, 6);
    const partner = await cli("partner", "add", "Acme", "Contact", tag);
    expect(partner.code).toBe(0);
    const partnerId = /id=([0-9a-f-]{36})$/.exec(partner.lines[0] ?? "")?.[1] ?? "";
    expect(partner.lines).toEqual([`Added partner group Acme Contact ${tag} id=${partnerId}`]);
    expect(await auditActions(partnerId)).toEqual([{ action: "partner.created", actor_label: "system:cli" }]);

    const inPartner = await cli("team", "add", `Billing ${tag}`, "--partner", `acme contact ${tag}`);
    expect(inPartner.code).toBe(0);
    expect(inPartner.lines[0]).toMatch(
      new RegExp(`^Added team Billing ${tag} \\(Acme Contact ${tag}\\) id=`),
    );
    const inHouse = await cli("team", "add", `Escalations ${tag}`);
    expect(inHouse.lines[0]).toMatch(new RegExp(`^Added team Escalations ${tag} \\(in-house\\) id=`));
    const stored = await db()
      .selectFrom("teams")
      .select(["name", "partner_id"])
      .where("tenant_id", "=", tenantId)
      .where("name", "like", `%${tag}`)
      .orderBy("name")
      .execute();
    expect(stored).toEqual([
      { name: `Billing ${tag}`, partner_id: partnerId },
      { name: `Escalations ${tag}`, partner_id: null },
    ]);

    const partners = await cli("partner", "list");
    expect(partners.lines).toContain(`Acme Contact ${tag}\t0 people, 1 teams\t${partnerId}`);
    const teams = await cli("team", "list");
    expect(
      teams.lines.some((l) => l.startsWith(`Billing ${tag}\tAcme Contact ${tag}\t0 people\tleads: -\t`)),
    ).toBe(true);
    expect(teams.lines.some((l) => l.startsWith(`Escalations ${tag}\tin-house\t`))).toBe(true);
  });

  it("refuses a taken name, an unknown partner group and a missing name, changing nothing", async () => {
    const tag = randomUUID().slice(0, 6);
    expect((await cli("team", "add", `Support ${tag}`)).code).toBe(0);
    expect(await cli("team", "add", `SUPPORT ${tag}`)).toEqual({
      code: 1,
      lines: [
        `Error (already_exists): There is already a team named "Support ${tag}" in your organisation (names are compared ignoring case). Choose another name.`,
      ],
    });
    const unknown = await cli("team", "add", `Night ${tag}`, "--partner", `Nobody ${tag}`);
    expect(unknown.code).toBe(2);
    expect(unknown.lines[0]).toContain(`No partner group named "Nobody ${tag}".`);
    expect((await cli("partner", "add")).code).toBe(2);
    expect((await cli("team", "add", "x".repeat(101))).code).toBe(2);
    const made = await db().selectFrom("teams").select("name").where("name", "like", `%${tag}`).execute();
    expect(made).toEqual([{ name: `Support ${tag}` }]);
  });

  it("finds --partner and --team names as the database folds them: 'İSTANBUL' names 'İstanbul'", async () => {
    // JavaScript lower-cases İ to i and a combining dot, the database to i: the group was not found.
    const tag = randomUUID().slice(0, 6);
    const partnerId = /id=(\S+)$/.exec((await cli("partner", "add", `İstanbul ${tag}`)).lines[0] ?? "")?.[1];
    const team = await cli("team", "add", `Şişli ${tag}`, "--partner", `İSTANBUL ${tag}`);
    expect(team.lines[0]).toMatch(new RegExp(`^Added team Şişli ${tag} \\(İstanbul ${tag}\\) id=`));
    const teamId = /id=(\S+)$/.exec(team.lines[0] ?? "")?.[1];
    const email = `istanbul-${tag}@example.com`;
    const added = await cli("user", "add", email, "--partner", `İSTANBUL ${tag}`, "--team", `ŞİŞLİ ${tag}`);
    expect(added.code, added.lines.join("\n")).toBe(0);
    const user = await db()
      .selectFrom("users")
      .select(["partner_id", "team_id"])
      .where("email", "=", email)
      .executeTakeFirstOrThrow();
    expect([user.partner_id, user.team_id]).toEqual([partnerId, teamId]);
  });

  it("user add --partner --team: one of a partner group's people, its partner admin, leading a team of the group", async () => {
    const tag = randomUUID().slice(0, 6);
    const partnerId = /id=(\S+)$/.exec((await cli("partner", "add", `Vendor ${tag}`)).lines[0] ?? "")?.[1];
    const teamId = /id=(\S+)$/.exec(
      (await cli("team", "add", `Chat ${tag}`, "--partner", `Vendor ${tag}`)).lines[0] ?? "",
    )?.[1];
    const email = `lead-${tag}@example.com`;
    const added = await cli(
      "user",
      "add",
      email,
      "--role",
      "partner_admin",
      "--role",
      "team_lead",
      "--partner",
      `VENDOR ${tag}`,
      "--team",
      `chat ${tag}`,
    );
    expect(added.code).toBe(0);
    expect(added.lines[0]).toMatch(new RegExp(`^Created ${email} \\(partner_admin, team_lead\\) id=`));
    const user = await db()
      .selectFrom("users")
      .select(["id", "partner_id", "team_id"])
      .where("email", "=", email)
      .executeTakeFirstOrThrow();
    expect([user.partner_id, user.team_id]).toEqual([partnerId, teamId]);
    const roles = await db()
      .selectFrom("role_assignments")
      .select(["role", "scope"])
      .where("user_id", "=", user.id)
      .orderBy("role")
      .execute();
    expect(roles).toEqual([
      { role: "partner_admin", scope: "partner" },
      { role: "team_lead", scope: "team" },
    ]);
  });

  it("user add refuses an unknown group or team, and a team of another group, creating nobody", async () => {
    const tag = randomUUID().slice(0, 6);
    await cli("partner", "add", `Outsourcer ${tag}`);
    await cli("team", "add", `In-house ${tag}`);
    const email = `nobody-${tag}@example.com`;
    const unknownPartner = await cli("user", "add", email, "--partner", `Missing ${tag}`);
    expect(unknownPartner.code).toBe(2);
    expect(unknownPartner.lines[0]).toMatch(
      new RegExp(`^No partner group named "Missing ${tag}"\\. Partner groups: .*Outsourcer ${tag}`),
    );
    const unknownTeam = await cli("user", "add", email, "--team", `Missing ${tag}`);
    expect(unknownTeam.code).toBe(2);
    expect(unknownTeam.lines[0]).toMatch(
      new RegExp(`^No team named "Missing ${tag}"\\. Teams: .*In-house ${tag}`),
    );
    const mismatch = await cli(
      "user",
      "add",
      email,
      "--partner",
      `Outsourcer ${tag}`,
      "--team",
      `In-house ${tag}`,
    );
    expect(mismatch.code).toBe(1);
    expect(mismatch.lines[0]).toMatch(/^Error \(team_group_mismatch\): /);
    expect(await db().selectFrom("users").select("id").where("email", "=", email).execute()).toEqual([]);
  });

  it("renames and deletes partner groups and teams by name, audited, and refuses what the API refuses", async () => {
    const tag = randomUUID().slice(0, 6);
    const partnerId =
      /id=(\S+)$/.exec((await cli("partner", "add", `Old Vendor ${tag}`)).lines[0] ?? "")?.[1] ?? "";
    const teamId =
      /id=(\S+)$/.exec(
        (await cli("team", "add", `Old Desk ${tag}`, "--partner", `Old Vendor ${tag}`)).lines[0] ?? "",
      )?.[1] ?? "";
    expect(await cli("partner", "rename", `old vendor ${tag}`, "--to", `New Vendor ${tag}`)).toEqual({
      code: 0,
      lines: [`Renamed partner group old vendor ${tag} to New Vendor ${tag}`],
    });
    expect((await cli("team", "rename", `Old Desk ${tag}`, "--to", `New Desk ${tag}`)).code).toBe(0);
    const names = await db()
      .selectFrom("teams")
      .innerJoin("partners", "partners.id", "teams.partner_id")
      .select(["teams.name as team", "partners.name as partner"])
      .where("teams.id", "=", teamId)
      .executeTakeFirstOrThrow();
    expect(names).toEqual({ team: `New Desk ${tag}`, partner: `New Vendor ${tag}` });

    // The group still has a team: refused, as DELETE /api/admin/partners/:id refuses it.
    const early = await cli("partner", "delete", `New Vendor ${tag}`);
    expect(early.code).toBe(1);
    expect(early.lines[0]).toMatch(
      /^Error \(partner_not_empty\): Partner group "New Vendor .*" cannot be deleted: 1 team/,
    );
    expect(await cli("team", "delete", `New Desk ${tag}`)).toEqual({
      code: 0,
      lines: [`Deleted team New Desk ${tag}`],
    });
    expect((await cli("partner", "delete", `New Vendor ${tag}`)).code).toBe(0);
    expect(
      await db().selectFrom("partners").select("id").where("id", "=", partnerId).executeTakeFirst(),
    ).toBeUndefined();
    expect(await auditActions(teamId)).toEqual([
      { action: "team.created", actor_label: "system:cli" },
      { action: "team.renamed", actor_label: "system:cli" },
      { action: "team.deleted", actor_label: "system:cli" },
    ]);
    expect((await auditActions(partnerId)).map((a) => a.action)).toEqual([
      "partner.created",
      "partner.renamed",
      "partner.deleted",
    ]);

    const missing = await cli("team", "delete", `Nowhere ${tag}`);
    expect(missing.code).toBe(2);
    expect(missing.lines[0]).toContain(`No team named "Nowhere ${tag}".`);
    expect(await cli("team", "rename", `Nowhere ${tag}`)).toEqual({
      code: 2,
      lines: ["Usage: team rename <name> --to <new name>"],
    });
  });

  it("team move: a team and its people into a partner group, then in-house, audited; refuses a bad call", async () => {
    const tag = randomUUID().slice(0, 6);
    await cli("partner", "add", `Takeover ${tag}`);
    const teamId = /id=(\S+)$/.exec((await cli("team", "add", `Desk ${tag}`)).lines[0] ?? "")?.[1] ?? "";
    const email = `desk-${tag}@example.com`;
    expect((await cli("user", "add", email, "--team", `Desk ${tag}`)).code).toBe(0);
    expect(await cli("team", "move", `desk ${tag}`, "--partner", `TAKEOVER ${tag}`)).toEqual({
      code: 0,
      lines: [`Moved team Desk ${tag} with 1 person to Takeover ${tag}`],
    });
    const placed = () =>
      db()
        .selectFrom("users")
        .leftJoin("partners", "partners.id", "users.partner_id")
        .select(["users.team_id", "partners.name"])
        .where("users.email", "=", email)
        .executeTakeFirstOrThrow();
    expect(await placed()).toEqual({ team_id: teamId, name: `Takeover ${tag}` });
    expect((await cli("team", "move", `Desk ${tag}`, "--in-house")).lines).toEqual([
      `Moved team Desk ${tag} with 1 person to in-house`,
    ]);
    expect(await placed()).toEqual({ team_id: teamId, name: null });
    expect((await auditActions(teamId)).map((a) => a.action)).toEqual([
      "team.created",
      "team.moved",
      "team.moved",
    ]);
    const usage = ["Usage: team move <name> (--partner <partner group name> | --in-house)"];
    expect(await cli("team", "move", `Desk ${tag}`)).toEqual({ code: 2, lines: usage });
    expect(await cli("team", "move", `Desk ${tag}`, "--in-house", "--partner", `Takeover ${tag}`)).toEqual({
      code: 2,
      lines: usage,
    });
    const unknown = await cli("team", "move", `Desk ${tag}`, "--partner", `Nobody ${tag}`);
    expect([unknown.code, unknown.lines[0]]).toEqual([2, expect.stringContaining("No partner group named")]);
  });

  it("lists the commands in its help", async () => {
    const help = (await cli("help")).lines.join("\n");
    for (const usage of [
      "partner add <name>",
      "partner list",
      "team add <name> [--partner",
      "team list",
      "[--partner <partner group name>] [--team <team name>]",
      "team rename <name> --to <new name>",
      "team move <name> (--partner <partner group name> | --in-house)",
      "partner delete <name>",
    ])
      expect(help).toContain(usage);
  });
});
