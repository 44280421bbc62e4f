import path from "node:path";
import { parseArgs } from "node:util";
import { ROLE_PERMISSIONS, ROLES, type Role } from "../../shared/permissions";
import { queueRetryBody } from "../../shared/schemas/queue";
import { systemActor } from "../auth/actor";
import { addOrganisationDomain, listTenantDomains } from "../commands/tenants/domains";
import { addUser } from "../commands/users/add-user";
import { listUsers } from "../commands/users/list-users";
import { resetUserTotp } from "../commands/users/reset-totp";
import { userByEmail } from "../commands/users/queries";
import { importMail } from "../commands/archive/import-mail";
import { trainFromLabelledMail } from "../commands/classifier/train-labelled";
import { CLASS_LABELS } from "../mail/scan/index";
import { outboundQueueSummary, retryDeferredDeliveries } from "../commands/admin/queue";
import { backUpDatabase } from "../commands/admin/backup";
import type { Services } from "../context";
import { ApiError } from "../http/errors";
import { cliRequest, helpAnswer } from "./help";
import { groupIdNamed, runOrganisationCommand } from "./organisation-commands";

/**
 * The `<mbox|folder> --<option> <value>` of `import` and `train`: the source resolved against the caller's folder
 * (the server may run elsewhere), or null when it is missing.
 */
function sourceWith(
  args: string[],
  option: string,
  cwd: string,
): { source: string | null; value: string | undefined } {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { [option]: { type: "string" } },
  });
  const value = values[option];
  return {
    source: positionals[0] ? path.resolve(cwd, positionals[0]) : null,
    value: typeof value === "string" ? value : undefined,
  };
}

/** Where a CLI command writes its output (stdout locally, the socket reply remotely). */
export interface CliOutput {
  print(line: string): void;
}

async function defaultTenant(services: Services): Promise<string> {
  const tenant = await services.db
    .selectFrom("tenants")
    .select("id")
    .orderBy("created_at")
    .executeTakeFirst();
  if (!tenant) throw new ApiError("not_found", "No tenant exists yet: start the server once first.");
  return tenant.id;
}

/** Runs one CLI command against open services; returns the process exit code. */
export async function runCliCommand(
  services: Services,
  argv: string[],
  out: CliOutput,
  cwd: string,
): Promise<number> {
  const [area, verb, ...rest] = argv;
  if (cliRequest(argv) === "help") {
    const help = helpAnswer(argv);
    out.print(help.output);
    return help.exitCode;
  }
  const actor = systemActor(await defaultTenant(services), "cli");
  try {
    if (area === "user" && verb === "add") {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          role: { type: "string", multiple: true },
          name: { type: "string" },
          password: { type: "boolean" },
          partner: { type: "string" },
          team: { type: "string" },
        },
      });
      const email = positionals[0];
      const roles = (values.role ?? ["agent"]) as string[];
      const bad = roles.find((r) => !(ROLES as readonly string[]).includes(r));
      if (!email || bad) {
        out.print(
          bad ? `Unknown role "${bad}". Roles: ${ROLES.join(", ")}` : "Usage: user add <email> --role <role>",
        );
        return 2;
      }
      const partnerId =
        values.partner === undefined
          ? null
          : await groupIdNamed(services, actor.tenantId, "partner", values.partner, out);
      const teamId =
        values.team === undefined
          ? null
          : await groupIdNamed(services, actor.tenantId, "team", values.team, out);
      if ((values.partner !== undefined && !partnerId) || (values.team !== undefined && !teamId)) return 2;
      const user = await addUser(services, actor, null, {
        email,
        roles: roles as Role[],
        partnerId,
        teamId,
        ...(values.name ? { displayName: values.name } : {}),
        generatePassword: values.password === true,
      });
      out.print(`Created ${user.email} (${user.roles.join(", ")}) id=${user.id}`);
      if (user.generatedPassword) out.print(`Password (shown once): ${user.generatedPassword}`);
      return 0;
    }
    if (area === "user" && verb === "reset-totp") {
      const email = rest[0]?.toLowerCase();
      const user = email ? await userByEmail(services.db, actor.tenantId, email) : undefined;
      if (!user) {
        out.print(email ? `No user ${email}.` : "Usage: user reset-totp <email>");
        return 2;
      }
      // The operator at the server's console acts with a tenant admin's reach (the break-glass for a locked-out admin).
      const operator = { ...actor, permissions: new Set(ROLE_PERMISSIONS.tenant_admin) };
      const reset = await resetUserTotp(services, operator, null, user.id);
      out.print(
        `Removed the authenticator app of ${reset.email}: they enrol a new one at their next sign-in.`,
      );
      return 0;
    }
    if (area === "user" && verb === "list") {
      for (const user of await listUsers(services.db, actor.tenantId)) {
        out.print(
          `${user.email}\t${user.roles.join(",") || "-"}\t${user.disabled ? "disabled" : "active"}\t${user.id}`,
        );
      }
      return 0;
    }
    if (area === "domain" && verb === "add" && rest[0]) {
      out.print(
        `Added domain ${(await addOrganisationDomain(services, actor, null, rest[0], "operator")).domain}`,
      );
      return 0;
    }
    if (area === "domain" && verb === "list") {
      for (const domain of await listTenantDomains(services, actor.tenantId)) {
        out.print(
          `${domain.domain}\t${domain.verifiedAt ? "verified" : "pending"}\t${domain.users} people, ${domain.aliases} aliases, ${domain.groups} groups`,
        );
      }
      return 0;
    }
    if (area === "queue" && !verb) {
      const q = await outboundQueueSummary(services.db, actor.tenantId);
      out.print(
        `Next hop: ${services.config.MAILWARD_NEXT_HOP ?? "(none set: mail stays queued)"}\n` +
          `Queued ${q.queued}, sending ${q.sending}, deferred ${q.deferred}` +
          (q.oldestWaitingSince ? `; oldest since ${q.oldestWaitingSince.toISOString()}` : "") +
          (q.nextRetryAt ? `; next retry ${q.nextRetryAt.toISOString()}` : ""),
      );
      for (const e of q.errors) out.print(`  ${e.deliveries} × ${e.error}`);
      return 0;
    }
    if (area === "queue" && verb === "retry") {
      const { values } = parseArgs({ args: rest, options: { message: { type: "string" } } });
      const input = queueRetryBody.safeParse(
        values.message === undefined ? {} : { messageId: values.message },
      );
      if (!input.success) {
        out.print(`"${values.message ?? ""}" is not a message id (the UUID the message trace shows).`);
        return 2;
      }
      const retried = await retryDeferredDeliveries(services, actor, null, input.data);
      out.print(`Retrying ${retried} deferred deliver${retried === 1 ? "y" : "ies"} now.`);
      return 0;
    }
    if (area === "import") {
      const { source, value: mailbox } = sourceWith(verb ? [verb, ...rest] : rest, "mailbox", cwd);
      if (!source || !mailbox) {
        out.print("Usage: import <mbox|folder> --mailbox <user email>");
        return 2;
      }
      const result = await importMail(services, actor, source, mailbox, (where, reason) =>
        out.print(`Not imported: ${where} (${reason})`),
      );
      out.print(
        `Imported ${result.imported} message(s) into ${mailbox} (${result.duplicates} already archived, ${result.failed} failed)`,
      );
      return result.failed > 0 ? 1 : 0;
    }
    if (area === "train") {
      const { source, value } = sourceWith(verb ? [verb, ...rest] : rest, "as", cwd);
      const label = CLASS_LABELS.find((l) => l === value);
      if (!source || !label) {
        out.print(`Usage: train <mbox|folder> --as <${CLASS_LABELS.join("|")}>`);
        return 2;
      }
      const result = await trainFromLabelledMail(services, actor, source, label);
      out.print(
        `Learnt ${result.learned} message(s) as ${label} (${result.relabelled} moved from another label, ` +
          `${result.unchanged} already learnt so, ${result.failed} unreadable)`,
      );
      return result.failed > 0 ? 1 : 0;
    }
    if (area === "backup") {
      const folder = verb && rest.length === 0 ? path.resolve(cwd, verb) : null;
      if (!folder) {
        out.print("Usage: backup <new folder>");
        return 2;
      }
      const backup = await backUpDatabase(services, actor, folder);
      out.print(
        `Backed up the database to ${backup.folder}: ${backup.files} files, ${(backup.bytes / 1024 ** 2).toFixed(1)} MB ` +
          `(WAL ${backup.startLsn} to ${backup.stopLsn}). The server key is not in it: keep its copy apart.`,
      );
      return 0;
    }
    if (area === "restore") {
      // Only reached through a running server's socket (main.ts restores directly when none runs).
      out.print("Stop Mailward first: a restore replaces the database this server has open.");
      return 2;
    }
    const organisation = await runOrganisationCommand(services, actor, argv, out);
    if (organisation !== null) return organisation;
    const unknown = helpAnswer(argv);
    out.print(unknown.output);
    return unknown.exitCode;
  } catch (err) {
    if (err instanceof ApiError) {
      out.print(`Error (${err.id}): ${err.message}`);
      return 1;
    }
    throw err;
  }
}
