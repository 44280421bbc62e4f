import {
  archiveHitList,
  archiveMessage,
  archiveSendResult,
  archiveExportBody,
  messageVerdict,
  type ArchiveForwardBody,
  type ArchiveReplyInput,
  type ArchiveSearchQueryInput,
} from "../../shared/schemas/archive";
import {
  loginResponse,
  recoveryCodesAnswer,
  totpConfirmAnswer,
  type LoginBody,
  type RecoveryCodesBody,
} from "../../shared/schemas/auth";
import {
  heldActionResult,
  heldBulkResult,
  heldCount,
  heldDetail,
  heldList,
  releaseRequestList,
  type releaseRequestCountQuery,
  releaseRequestQuery,
  type HeldAction,
  type HeldActionBody,
  type HeldBulkBody,
  type HeldCountQueryInput,
  type HeldListQueryInput,
  type ReleaseDecisionBody,
} from "../../shared/schemas/held";
import {
  meAnswer,
  meSettings,
  totpEnrollment,
  type SecurityPhraseBody,
  type TotpConfirmBody,
} from "../../shared/schemas/me";
import {
  reportResult,
  triageItem,
  triageList,
  triageListQuery,
  type CreateReportInput,
  type TriageDecisionBody,
} from "../../shared/schemas/reports";
import { traceList, type traceQuery } from "../../shared/schemas/trace";
import { queueRetryResult, queueSummary, type QueueRetryBody } from "../../shared/schemas/queue";
import { classifierStatus } from "../../shared/schemas/classifier";
import {
  organisationSettings,
  settingsImpact,
  settingsImpactQuery,
  type OrganisationSettingsChange,
} from "../../shared/schemas/settings";
import { graphStatus } from "../../shared/schemas/graph";
import {
  organisationDomain,
  organisationDomainList,
  type OrganisationDomainBody,
} from "../../shared/schemas/domains";
import {
  type groupListQuery,
  partnerGroup,
  partnerGroupList,
  team,
  teamList,
  type CreateTeamBody,
  type PartnerGroupBody,
  type UpdateTeamBody,
} from "../../shared/schemas/organisation";
import {
  smtpPasswordCreated,
  smtpPasswordList,
  type SmtpPasswordBody,
} from "../../shared/schemas/smtp-passwords";
import {
  createSenderRuleResult,
  senderRuleList,
  type CreateSenderRuleInput,
  type SenderListQueryInput,
} from "../../shared/schemas/senders";
import type { z } from "zod";
import type { HttpClient } from "./http";

const id = (value: string): string => encodeURIComponent(value);

/** A security admin's decision on a release request: POST /api/admin/held/:heldId/<decision>. */
export type ReleaseDecision = "approve" | "deny";
/** A security admin's decision on a reported message: POST /api/admin/reports/:id/<decision>. */
export type TriageDecision = "confirm" | "dismiss";

/** Every API call the add-in and portal make, typed from shared/schemas and validated on the way in. */
export function createMailwardApi(http: HttpClient) {
  /** A message with its `previewUrl` made loadable by the frame; anything but an API path is dropped. */
  const framed = <T extends { previewUrl: string | null }>(message: T): T => ({
    ...message,
    previewUrl: message.previewUrl?.startsWith("/api/") ? http.url(message.previewUrl) : null,
  });
  return {
    auth: {
      /** POST /api/auth/login; remembers the CSRF token it returns. */
      async login(body: LoginBody) {
        const result = await http.request("POST", "/api/auth/login", loginResponse, { body });
        http.auth.rememberCsrfToken?.(result.csrfToken);
        return result;
      },
      logout: () => http.request("POST", "/api/auth/logout", null, { body: {} }),
    },
    me: () => http.request("GET", "/api/me", meAnswer),
    settings: {
      get: () => http.request("GET", "/api/me/settings", meSettings),
      setSecurityPhrase: (body: SecurityPhraseBody) =>
        http.request("PUT", "/api/me/security-phrase", null, { body }),
      enrollTotp: () => http.request("POST", "/api/me/totp/enroll", totpEnrollment, { body: {} }),
      /** POST /api/me/totp/confirm; remembers the CSRF token of the session it rotates to. */
      async confirmTotp(body: TotpConfirmBody) {
        const result = await http.request("POST", "/api/me/totp/confirm", totpConfirmAnswer, { body });
        if (result.csrfToken) http.auth.rememberCsrfToken?.(result.csrfToken);
        return result;
      },
      regenerateRecoveryCodes: (body: RecoveryCodesBody) =>
        http.request("POST", "/api/me/totp/recovery-codes", recoveryCodesAnswer, { body }),
      smtpPasswords: () => http.request("GET", "/api/me/smtp-passwords", smtpPasswordList),
      createSmtpPassword: (body: SmtpPasswordBody) =>
        http.request("POST", "/api/me/smtp-passwords", smtpPasswordCreated, { body }),
      revokeSmtpPassword: (passwordId: string) =>
        http.request("DELETE", `/api/me/smtp-passwords/${id(passwordId)}`, null),
    },
    held: {
      list: (query: HeldListQueryInput = {}) => http.request("GET", "/api/held", heldList, { query }),
      /** GET /api/held/count: how many the list would show (up to 100, then `more`), for the Held tab's badge. */
      count: (query: HeldCountQueryInput = {}) =>
        http.request("GET", "/api/held/count", heldCount, { query }),
      get: async (heldId: string, images: "block" | "show" = "block") =>
        framed(await http.request("GET", `/api/held/${id(heldId)}`, heldDetail, { query: { images } })),
      act: (heldId: string, action: HeldAction, body: HeldActionBody = {}) =>
        http.request("POST", `/api/held/${id(heldId)}/${action}`, heldActionResult, { body }),
      bulk: (body: HeldBulkBody) => http.request("POST", "/api/held/bulk", heldBulkResult, { body }),
    },
    senders: {
      list: (query: SenderListQueryInput = {}) =>
        http.request("GET", "/api/senders", senderRuleList, { query }),
      create: (body: CreateSenderRuleInput) =>
        http.request("POST", "/api/senders", createSenderRuleResult, { body }),
      remove: (ruleId: string) => http.request("DELETE", `/api/senders/${id(ruleId)}`, null),
    },
    reports: {
      create: (body: CreateReportInput) =>
        http.request("POST", "/api/reports", reportResult, { body, timeoutMs: 60_000 }),
      undo: (reportId: string) => http.request("DELETE", `/api/reports/${id(reportId)}`, null),
    },
    admin: {
      /** GET /api/admin/held/requests: release requests for phish/malware holds (default: pending). */
      releaseRequests: (query: z.input<typeof releaseRequestQuery> = {}) =>
        http.request("GET", "/api/admin/held/requests", releaseRequestList, { query }),
      /** GET /api/admin/held/requests/count: how many wait (up to 100, then `more`), for the Review tab's badge. */
      releaseRequestCount: (query: z.input<typeof releaseRequestCountQuery> = {}) =>
        http.request("GET", "/api/admin/held/requests/count", heldCount, { query }),
      /** Approves (releases exactly once) or denies a release request; `heldId` is the held item's id. */
      decideRelease: (heldId: string, decision: ReleaseDecision, body: ReleaseDecisionBody = {}) =>
        http.request("POST", `/api/admin/held/${id(heldId)}/${decision}`, heldActionResult, { body }),
      /** GET /api/admin/reports: the triage queue, one entry per reported message (default: open). */
      reports: (query: z.input<typeof triageListQuery> = {}) =>
        http.request("GET", "/api/admin/reports", triageList, { query }),
      /** GET /api/admin/trace: what became of messages, per recipient (mail.trace). */
      trace: (query: z.input<typeof traceQuery> = {}) =>
        http.request("GET", "/api/admin/trace", traceList, { query }),
      /** GET /api/admin/queue: what waits for the next hop, and why (mail.trace). */
      queue: () => http.request("GET", "/api/admin/queue", queueSummary),
      /** GET /api/admin/settings: the organisation's settings in effect (policies.read). */
      settings: () => http.request("GET", "/api/admin/settings", organisationSettings),
      /** GET /api/admin/settings/impact: what thresholds would have done to the last days' inbound mail (policies.read). */
      settingsImpact: (query: z.input<typeof settingsImpactQuery>) =>
        http.request("GET", "/api/admin/settings/impact", settingsImpact, { query }),
      /** PUT /api/admin/settings: changes the settings named, audited (policies.manage). */
      changeSettings: (body: OrganisationSettingsChange) =>
        http.request("PUT", "/api/admin/settings", organisationSettings, { body }),
      /** GET /api/admin/domains: the organisation's mail domains, with what takes mail in each (users.manage). */
      domains: () => http.request("GET", "/api/admin/domains", organisationDomainList),
      /** POST /api/admin/domains: takes mail for another domain, audited (users.manage). */
      addDomain: (body: OrganisationDomainBody) =>
        http.request("POST", "/api/admin/domains", organisationDomain, { body }),
      /** DELETE /api/admin/domains/:domain: stops taking mail for a domain nobody uses any more (users.manage). */
      removeDomain: (domain: string) => http.request("DELETE", `/api/admin/domains/${id(domain)}`, null),
      /** POST /api/admin/domains/:domain/verify: checks a pending domain's TXT record; once found it takes mail (users.manage). */
      verifyDomain: (domain: string) =>
        http.request("POST", `/api/admin/domains/${id(domain)}/verify`, organisationDomain),
      /** GET /api/admin/partners: a page of the BPO partner groups within reach, with their people and teams (users.read). */
      partners: (query: z.input<typeof groupListQuery> = {}) =>
        http.request("GET", "/api/admin/partners", partnerGroupList, { query }),
      /** POST /api/admin/partners: a new partner group, audited (users.manage). */
      addPartner: (body: PartnerGroupBody) =>
        http.request("POST", "/api/admin/partners", partnerGroup, { body }),
      /** PATCH /api/admin/partners/:id: renames a partner group (users.manage). */
      renamePartner: (partnerId: string, body: PartnerGroupBody) =>
        http.request("PATCH", `/api/admin/partners/${id(partnerId)}`, partnerGroup, { body }),
      /** DELETE /api/admin/partners/:id: deletes an empty partner group (users.manage; 409 while anything belongs to it). */
      removePartner: (partnerId: string) =>
        http.request("DELETE", `/api/admin/partners/${id(partnerId)}`, null),
      /** GET /api/admin/teams: a page of the teams within reach, with partner group, member count and leads (users.read). */
      teams: (query: z.input<typeof groupListQuery> = {}) =>
        http.request("GET", "/api/admin/teams", teamList, { query }),
      /** POST /api/admin/teams: a new team, in-house or in a partner group, audited. */
      addTeam: (body: CreateTeamBody) => http.request("POST", "/api/admin/teams", team, { body }),
      /** PATCH /api/admin/teams/:id: renames a team. */
      renameTeam: (teamId: string, body: UpdateTeamBody) =>
        http.request("PATCH", `/api/admin/teams/${id(teamId)}`, team, { body }),
      /** DELETE /api/admin/teams/:id: deletes an empty team (409 while people are in it or a lead's role names it). */
      removeTeam: (teamId: string) => http.request("DELETE", `/api/admin/teams/${id(teamId)}`, null),
      /** GET /api/admin/classifier: what the content classifier has learnt, and whether it is active (policies.read). */
      classifier: () => http.request("GET", "/api/admin/classifier", classifierStatus),
      /** GET /api/admin/graph: the Graph connector and the directory sync's last round (policies.read). */
      graph: () => http.request("GET", "/api/admin/graph", graphStatus),
      /** POST /api/admin/queue/retry: deferred deliveries due now, all or one message's (mail.queue). */
      retryQueue: (body: QueueRetryBody = {}) =>
        http.request("POST", "/api/admin/queue/retry", queueRetryResult, { body }),
      /** Confirms or dismisses a reported message; every reporter is told. */
      triage: (reportId: string, decision: TriageDecision, body: TriageDecisionBody = {}) =>
        http.request("POST", `/api/admin/reports/${id(reportId)}/${decision}`, triageItem, { body }),
    },
    archive: {
      search: (query: ArchiveSearchQueryInput) =>
        http.request("GET", "/api/archive/search", archiveHitList, { query }),
      get: async (archiveId: string, images: "block" | "show" = "block") =>
        framed(
          await http.request("GET", `/api/archive/${id(archiveId)}`, archiveMessage, { query: { images } }),
        ),
      lookup: (messageId: string) =>
        http.request("GET", "/api/archive/lookup", messageVerdict, { query: { messageId } }),
      raw: (archiveId: string) => http.blob(`/api/archive/${id(archiveId)}/raw`),
      forward: (archiveId: string, body: ArchiveForwardBody) =>
        http.request("POST", `/api/archive/${id(archiveId)}/forward`, archiveSendResult, { body }),
      reply: (archiveId: string, body: ArchiveReplyInput) =>
        http.request("POST", `/api/archive/${id(archiveId)}/reply`, archiveSendResult, { body }),
      /** Streams the selected messages back as one file (zip of .eml or mbox); large exports take a while. */
      export: async (body: z.input<typeof archiveExportBody>) => {
        const file = await http.download("POST", "/api/archive/export", { body, timeoutMs: 600_000 });
        const count = Number(file.headers.get("x-mailward-export-count") ?? "");
        return {
          blob: file.blob,
          filename: file.filename ?? "mailward-export.zip",
          count: Number.isFinite(count) ? count : null,
        };
      },
    },
  };
}

/** The typed API surface (what views receive through context). */
export type MailwardApi = ReturnType<typeof createMailwardApi>;
