import { idParam } from "../../shared/schemas/common";
import { smtpPasswordBody, smtpPasswordCreated, smtpPasswordList } from "../../shared/schemas/smtp-passwords";
import { createSmtpPassword, listSmtpPasswords, revokeSmtpPassword } from "../commands/me/smtp-passwords";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { presentCreatedSmtpPassword, presentSmtpPassword } from "../presenters/smtp-passwords";

/** SMTP passwords: each person's own secrets for submitting mail through the gateway with SMTP AUTH. */
export const smtpPasswordRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/me/smtp-passwords",
    summary: "Your SMTP passwords in force, newest first (labels and last use; never the secrets)",
    tag: "auth",
    access: { kind: "signed_in" },
    response: smtpPasswordList,
    handler: async ({ actor, services }) => ({
      json: { items: (await listSmtpPasswords(services.db, actor)).map(presentSmtpPassword) },
    }),
  }),
  defineRoute({
    method: "post",
    path: "/api/me/smtp-passwords",
    summary:
      "Create an SMTP password for a device or app (201; the secret is in this answer only); a portal session needs a sign-in in the last MAILWARD_RECENT_SIGN_IN_MINUTES (403 recent_sign_in_required)",
    tag: "auth",
    access: { kind: "signed_in" },
    body: smtpPasswordBody,
    response: smtpPasswordCreated,
    handler: async ({ actor, services, ip, body }) => {
      const { row, password } = await createSmtpPassword(services, actor, ip, body.label);
      return { status: 201, body: presentCreatedSmtpPassword(row, password, actor.email) };
    },
  }),
  defineRoute({
    method: "delete",
    path: "/api/me/smtp-passwords/:id",
    summary: "Revoke one of your SMTP passwords (204): the device using it can no longer send",
    tag: "auth",
    access: { kind: "signed_in" },
    params: idParam,
    handler: async ({ params, actor, services, ip, res }) => {
      await revokeSmtpPassword(services, actor, ip, params.id);
      res.status(204).end();
    },
  }),
];
