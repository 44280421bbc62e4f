import { z } from "zod";
import { listOf, pageQuery } from "./common";

/** A team's or partner group's name: trimmed, 1 to 100 characters, unique in the organisation whatever its case. */
export const groupName = z
  .string()
  .trim()
  .min(1, "Give a name (1 to 100 characters).")
  .max(100, "A name has at most 100 characters.");

/** A person named in a team's or partner group's answer (its leads). */
export const groupPerson = z.object({ id: z.uuid(), email: z.string(), displayName: z.string() });

/** A BPO partner group: its people are scoped to it, and its partner admins manage them. */
export const partnerGroup = z.object({
  id: z.uuid(),
  name: z.string(),
  /** People in the partner group (disabled ones too: they keep it from being deleted). */
  members: z.number().int().min(0),
  /** Teams of the partner group. */
  teams: z.number().int().min(0),
});
/** A partner group in the admin API. */
export type PartnerGroup = z.infer<typeof partnerGroup>;

/** GET /api/admin/partners and /api/admin/teams query: a page by name, of those whose name contains `q` (any case). */
export const groupListQuery = pageQuery.extend({
  // The cursor carries the last name (100 characters, up to 6 bytes each in JSON, then base64): longer than others'.
  cursor: z.string().max(2000).optional(),
  q: z.string().trim().max(100).optional(),
});
/** Parsed list query of teams or partner groups. */
export type GroupListQuery = z.infer<typeof groupListQuery>;

/** GET /api/admin/partners answer: a page of the partner groups within reach, by name. */
export const partnerGroupList = listOf(partnerGroup);
/** Parsed GET /api/admin/partners answer. */
export type PartnerGroupList = z.infer<typeof partnerGroupList>;

/** POST /api/admin/partners and PATCH /api/admin/partners/:id body. */
export const partnerGroupBody = z.object({ name: groupName }).strict();
/** Parsed partner group body. */
export type PartnerGroupBody = z.infer<typeof partnerGroupBody>;

/** A team: its lead(s) see and release its members' held mail. `partner` null: an in-house team. */
export const team = z.object({
  id: z.uuid(),
  name: z.string(),
  partner: z.object({ id: z.uuid(), name: z.string() }).nullable(),
  /** People in the team (disabled ones too: they keep it from being deleted). */
  members: z.number().int().min(0),
  /** Who leads it: team leads scoped to it, or to their own team when it is this one. */
  leads: z.array(groupPerson),
});
/** A team in the admin API. */
export type Team = z.infer<typeof team>;

/** GET /api/admin/teams answer: a page of the teams within reach, by name. */
export const teamList = listOf(team);
/** Parsed GET /api/admin/teams answer. */
export type TeamList = z.infer<typeof teamList>;

/**
 * POST /api/admin/teams body. `partnerId`: the partner group the team belongs to (null or absent: in-house, for a
 * tenant admin; a partner admin's team is always in their partner group).
 */
export const createTeamBody = z
  .object({ name: groupName, partnerId: z.uuid().nullable().optional() })
  .strict();
/** Parsed POST /api/admin/teams body. */
export type CreateTeamBody = z.infer<typeof createTeamBody>;

/** PATCH /api/admin/teams/:id body: what changes (the name, and for tenant admins the partner group; null: in-house). */
export const updateTeamBody = z
  .object({ name: groupName.optional(), partnerId: z.uuid().nullable().optional() })
  .strict()
  .refine((body) => body.name !== undefined || body.partnerId !== undefined, {
    message: "Nothing to change: send a name or a partnerId.",
  });
/** Parsed PATCH /api/admin/teams/:id body. */
export type UpdateTeamBody = z.infer<typeof updateTeamBody>;
