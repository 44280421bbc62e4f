import {
  legalHold,
  legalHoldBody,
  liftLegalHoldBody,
  purgeBody,
  purgeResult,
  retentionPolicies,
} from "../../shared/schemas/archive";
import { idParam, listOf } from "../../shared/schemas/common";
import { defineRoute, type RouteSpec } from "../http/route-table";
import { listRetentionPolicies, purgeArchive, setRetentionPolicies } from "../commands/archive/retention";
import { liftLegalHold, listLegalHolds, placeLegalHold } from "../commands/archive/legal-holds";

const HOLDS = { kind: "permission", permission: "archive.legal_hold" } as const;

/** Archive retention rules, the purge (with dry run) and legal holds; holds are tenant admins' alone. */
export const adminRetentionRoutes: RouteSpec[] = [
  defineRoute({
    method: "get",
    path: "/api/admin/retention",
    summary: "The tenant's archive retention rules (none: keep forever)",
    tag: "admin",
    access: { kind: "permission", permission: "policies.read" },
    response: retentionPolicies,
    handler: async ({ actor, services }) => ({
      json: { policies: await listRetentionPolicies(services, actor) },
    }),
  }),
  defineRoute({
    method: "put",
    path: "/api/admin/retention",
    summary: "Replace the archive retention rules (by direction and age)",
    tag: "admin",
    access: { kind: "permission", permission: "policies.manage" },
    body: retentionPolicies,
    response: retentionPolicies,
    handler: async ({ body, actor, services, ip }) => ({
      json: { policies: await setRetentionPolicies(services, actor, ip, body.policies) },
    }),
  }),
  defineRoute({
    method: "post",
    path: "/api/admin/retention/purge",
    summary: "Purge expired archive mail now (dryRun: only count); legal holds are never touched",
    tag: "admin",
    access: { kind: "permission", permission: "policies.manage" },
    body: purgeBody,
    response: purgeResult,
    handler: async ({ body, actor, services, ip }) => ({
      json: await purgeArchive(services, actor, ip, body.dryRun),
    }),
  }),
  defineRoute({
    method: "get",
    path: "/api/admin/legal-holds",
    summary: "Legal holds, active first",
    tag: "admin",
    access: HOLDS,
    response: listOf(legalHold),
    handler: async ({ actor, services }) => ({
      json: { items: await listLegalHolds(services, actor), nextCursor: null },
    }),
  }),
  defineRoute({
    method: "post",
    path: "/api/admin/legal-holds",
    summary: "Place a legal hold by query or custodian",
    tag: "admin",
    access: HOLDS,
    body: legalHoldBody,
    response: legalHold,
    handler: async ({ body, actor, services, ip }) => ({
      status: 201,
      body: await placeLegalHold(services, actor, ip, body),
    }),
  }),
  defineRoute({
    method: "post",
    path: "/api/admin/legal-holds/:id/lift",
    summary: "Lift a legal hold (with a reason)",
    tag: "admin",
    access: HOLDS,
    params: idParam,
    body: liftLegalHoldBody,
    response: legalHold,
    handler: async ({ params, body, actor, services, ip }) => ({
      json: await liftLegalHold(services, actor, ip, params.id, body.reason),
    }),
  }),
];
