import type { ColumnType, Generated, JSONColumnType } from "kysely";

/** A timestamptz column: read as Date, written as Date or ISO string. */
type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** A timestamptz column the database fills in by default. */
type CreatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
/** A jsonb column holding arbitrary JSON; written as a JSON string. */
type Json<T extends object | null> = JSONColumnType<T, string, string>;

/** tenants: one organisation. */
export interface TenantsTable {
  id: Generated<string>;
  name: string;
  mode: Generated<"gateway" | "graph" | "both">;
  settings: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: CreatedAt;
  /** 0300: the Entra directory (tid) whose people sign in to this tenant. */
  entra_tenant_id: ColumnType<string | null, string | null | undefined, string | null>;
}
/** tenant_domains: the mail domains a tenant receives for. */
export interface TenantDomainsTable {
  tenant_id: string;
  domain: string;
  created_at: CreatedAt;
  /** 2200: when the domain was proved (DNS TXT) or vouched for by the operator; null while pending, taking no mail. */
  verified_at: ColumnType<Date | null, Date | string | null, Date | string | null>;
  /** 2200: the value of the TXT record that proves a pending domain (null for the operator's domains). */
  verification_token: ColumnType<string | null, string | null | undefined, string | null>;
}
/** teams: a team lead's reach. */
export interface TeamsTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  /** 2901: the partner group the team belongs to; null for an in-house team. */
  partner_id: ColumnType<string | null, string | null | undefined, string | null>;
}
/** partners: an outsourcing vendor's group of users. */
export interface PartnersTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
}
/** users: people who sign in, by Entra oid or local password. */
export interface UsersTable {
  id: Generated<string>;
  tenant_id: string;
  email: string;
  display_name: Generated<string>;
  entra_oid: string | null;
  password_hash: string | null;
  /** Sealed with the server key (auth/totp-at-rest.ts): `v1:<iv>:<tag>:<ciphertext>`, never the secret itself. */
  totp_secret: string | null;
  totp_enabled: Generated<boolean>;
  totp_last_step: number | null;
  recovery_codes: ColumnType<string[], string | undefined, string>;
  security_phrase: string | null;
  team_id: string | null;
  partner_id: string | null;
  failed_logins: Generated<number>;
  locked_until: Timestamp | null;
  /** 3250: when its latest failed sign-in was counted (the count lapses MAILWARD_LOCKOUT_MINUTES after it). */
  failed_login_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  disabled_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: CreatedAt;
  /** 0300: the last successful sign-in (local or Entra portal). */
  last_sign_in_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** 1500: the directory sync found them gone from Entra; the gateway then refuses their mail. */
  left_directory_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** 2800: a partner admin disabled the account (only then may a partner admin enable it again). */
  disabled_by_partner_admin: Generated<boolean>;
}
/** role_assignments: (user, role, scope). */
export interface RoleAssignmentsTable {
  id: Generated<string>;
  tenant_id: string;
  user_id: string;
  role: string;
  scope: string;
  scope_id: string | null;
  created_at: CreatedAt;
}
/** sessions: cookie sessions, stored so any instance can serve them. */
export interface SessionsTable {
  id: string;
  tenant_id: string;
  user_id: string | null;
  csrf_token: string;
  stage: Generated<"anonymous" | "full" | "mfa_enrolment">;
  ip: string | null;
  user_agent: string | null;
  created_at: CreatedAt;
  last_seen_at: CreatedAt;
  expires_at: Timestamp;
}
/** audit_heads: the tip of each tenant's audit hash chain (serialises appends). */
export interface AuditHeadsTable {
  tenant_id: string;
  last_seq: number;
  last_hash: string;
}
/** audit_events: the append-only, hash-chained record of actions. */
export interface AuditEventsTable {
  tenant_id: string;
  seq: number;
  actor_id: string | null;
  actor_label: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: Json<Record<string, unknown>>;
  ip: string | null;
  created_at: Timestamp;
  prev_hash: string;
  hash: string;
}
/** message_blobs: compressed raw MIME, stored once per tenant and SHA-256. */
export interface MessageBlobsTable {
  tenant_id: string;
  sha256: string;
  raw_size: number;
  stored_size: number;
  compression: Generated<string>;
  content: Uint8Array;
  created_at: CreatedAt;
}
/** messages: the archive, one row per distinct message. */
export interface MessagesTable {
  id: Generated<string>;
  tenant_id: string;
  sha256: string;
  message_id: string | null;
  in_reply_to: string | null;
  reference_ids: ColumnType<string[], string[] | undefined, string[]>;
  subject: string;
  from_address: string;
  from_name: string;
  to_addresses: string[];
  cc_addresses: string[];
  envelope_from: string;
  envelope_to: string[];
  date: Timestamp;
  received_at: CreatedAt;
  size: number;
  has_attachments: boolean;
  attachment_names: string[];
  body_text: string;
  attachment_text: string;
  headers: Json<Array<{ key: string; value: string }>>;
  direction: "inbound" | "outbound" | "internal";
  source: "smtp" | "graph" | "import" | "portal";
  assessment: Json<Record<string, unknown>> | null;
  /** The SMTP session a message came in on (MessageTrace), for the trace fields of its relays; null otherwise. */
  trace: Json<Record<string, unknown>> | null;
  search_vector: ColumnType<string, unknown, unknown>;
}
/** mailbox_links: which user's mailbox (and folder) a message belongs to; scopes access. */
export interface MailboxLinksTable {
  tenant_id: string;
  message_id: string;
  user_id: string;
  folder: "inbox" | "sent" | "quarantine" | "junk";
  created_at: CreatedAt;
  /** The message's date, copied by trigger (0500) so a user's newest-first page is one index range. */
  message_date: ColumnType<Date | null, Date | string | undefined, Date | string>;
}
/** held_items: a message held for one recipient. */
export interface HeldItemsTable {
  id: Generated<string>;
  tenant_id: string;
  message_id: string;
  user_id: string | null;
  recipient: string;
  reason: string;
  score: number;
  signals: Json<unknown[]>;
  status: Generated<string>;
  expires_at: Timestamp;
  acted_by: string | null;
  acted_at: Timestamp | null;
  created_at: CreatedAt;
  /** (2600) The transaction that held this copy, when the message's bytes were archived by another (deliver/session.ts). */
  session: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  /** (3100) The block rule that held it (`blocked_sender`), if any; it may since have been deleted. */
  rule_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** (3100) Whose that rule is: `tenant` (the organisation's: only a security admin releases) or `user`. */
  rule_scope: ColumnType<
    "user" | "tenant" | null,
    "user" | "tenant" | null | undefined,
    "user" | "tenant" | null
  >;
  /** (3330) lower(from_address) of its message, kept by a trigger for the held list's `sender=`; never written here. */
  from_lower: ColumnType<string | null, never, never>;
  /** (3440) The recipient as the sender wrote it, for the release's RCPT TO; null: `recipient`. */
  rcpt_to: ColumnType<string | null, string | null | undefined, string | null>;
  /** (3440) The reverse-path its release relays with when not the archived one (`""`: a null sender); null: as archived. */
  mail_from: ColumnType<string | null, string | null | undefined, string | null>;
}
/** sender_rules: personal and organisation block/permit lists. */
export interface SenderRulesTable {
  id: Generated<string>;
  tenant_id: string;
  scope: "user" | "tenant";
  user_id: string | null;
  kind: "block" | "permit";
  pattern: string;
  expires_at: Timestamp | null;
  created_by: string | null;
  source: Generated<string>;
  created_at: CreatedAt;
}
/** reports: phish/spam/not-spam reports awaiting triage. */
export interface ReportsTable {
  id: Generated<string>;
  tenant_id: string;
  message_id: string | null;
  internet_message_id: string | null;
  reporter_id: string;
  kind: "phish" | "spam" | "not_spam";
  note: string | null;
  status: Generated<string>;
  outcome: string | null;
  undo_until: Timestamp | null;
  triaged_by: string | null;
  triaged_at: Timestamp | null;
  created_at: CreatedAt;
  /** 0400: the first open report of the same message this one was merged into (null: it leads its group). */
  merged_into: ColumnType<string | null, string | null | undefined, string | null>;
  /** 0400: the personal block rule `block: true` created (removed again on undo). */
  blocked_rule_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** 0400: the mailbox folder the message was moved out of / into, for undo. */
  moved_from: ColumnType<string | null, string | null | undefined, string | null>;
  moved_to: ColumnType<string | null, string | null | undefined, string | null>;
  /** 0400: what the classifier learnt from this report, once it became final. */
  learned_label: ColumnType<string | null, string | null | undefined, string | null>;
  learned_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  notified_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** (2700) The rule `block: true` switched or refreshed, as it was before, for undo (reports/replaced-rule.ts). */
  replaced_rule: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
}
/** deliveries: the outbound queue, one row per (message, recipient, purpose). */
export interface DeliveriesTable {
  id: Generated<string>;
  tenant_id: string;
  message_id: string;
  recipient: string;
  purpose: Generated<string>;
  state: Generated<string>;
  attempts: Generated<number>;
  next_attempt_at: CreatedAt;
  locked_until: Timestamp | null;
  last_error: string | null;
  delivered_at: Timestamp | null;
  created_at: CreatedAt;
  /** (0200) Envelope sender to relay with; null: the message's envelope_from; '' is the null sender (DSNs). */
  mail_from: ColumnType<string | null, string | null | undefined, string | null>;
  /** (0200) Committed just before the final dot: a crash after it leaves the outcome unknown. */
  handoff_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  locked_by: ColumnType<string | null, string | null | undefined, string | null>;
  last_response: ColumnType<string | null, string | null | undefined, string | null>;
  /** (0200) Set when a crash happened after the handoff, so the retry may duplicate. */
  possible_duplicate: Generated<boolean>;
  /** (0700) Gzipped live bytes of mail whose archived copy has its credential links removed; erased when final. */
  transient_raw: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
  /** (2600) The transaction that queued this copy, when the message's bytes were archived by another (deliver/session.ts). */
  session: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  /** (3430) The recipient as the sender wrote it, for the next hop's RCPT TO; null: `recipient`. */
  rcpt_to: ColumnType<string | null, string | null | undefined, string | null>;
}
/** graph_mailboxes: Graph subscription and delta state per monitored mailbox. */
export interface GraphMailboxesTable {
  id: Generated<string>;
  tenant_id: string;
  user_id: string;
  graph_user_id: string;
  subscription_id: string | null;
  subscription_expires_at: Timestamp | null;
  client_state: string | null;
  delta_links: ColumnType<Record<string, string>, string | undefined, string>;
  quarantine_folder_id: string | null;
  created_at: CreatedAt;
  /** 0600: the mailbox's SMTP address, its Entra directory, and whether it is watched (graph/both) or only acted on. */
  address: Generated<string>;
  directory_id: Generated<string>;
  monitored: Generated<boolean>;
  inbox_folder_id: ColumnType<string | null, string | null | undefined, string | null>;
  sent_folder_id: ColumnType<string | null, string | null | undefined, string | null>;
  synced_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  disabled_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** 3410: when each watched folder was last caught up by delta (ISO time by folder), where a lost delta state resumes. */
  folder_synced_at: ColumnType<Record<string, string>, string | undefined, string>;
}
/** graph_subscriptions (0600): one Graph change subscription per mailbox folder, with the clientState it must echo. */
export interface GraphSubscriptionsTable {
  id: Generated<string>;
  tenant_id: string;
  mailbox_id: string;
  folder: "inbox" | "sentitems";
  subscription_id: string;
  client_state: string;
  notification_url: string;
  expires_at: Timestamp;
  created_at: CreatedAt;
  renewed_at: CreatedAt;
}
/** graph_notifications (0600): the webhook's inbox, written before it answers Graph, processed by a job. */
export interface GraphNotificationsTable {
  id: Generated<number>;
  tenant_id: string;
  mailbox_id: string;
  kind: "change" | "lifecycle" | "delta";
  folder: "inbox" | "sentitems";
  event: string;
  resource_id: string | null;
  subscription_id: string | null;
  state: Generated<"pending" | "processing" | "done" | "failed">;
  attempts: Generated<number>;
  next_attempt_at: CreatedAt;
  locked_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_error: string | null;
  received_at: CreatedAt;
  processed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}
/** graph_messages (0600): each mailbox message processed once, keyed by immutable id (and internetMessageId). */
export interface GraphMessagesTable {
  id: Generated<string>;
  tenant_id: string;
  mailbox_id: string;
  graph_message_id: string;
  folder: "inbox" | "sentitems";
  internet_message_id: string | null;
  message_id: string | null;
  held_item_id: string | null;
  state: Generated<"claimed" | "done" | "duplicate" | "gone" | "old">;
  verdict: string | null;
  claimed_at: CreatedAt;
  processed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}
/** graph_actions (0600): the outbox of changes to make in a mailbox through Graph (moves, sweeps, sends, rules). */
export interface GraphActionsTable {
  id: Generated<number>;
  tenant_id: string;
  mailbox_id: string;
  kind: "quarantine" | "release" | "move" | "sweep_sender" | "send" | "inbox_rule";
  graph_message_id: string | null;
  internet_message_id: string | null;
  message_id: string | null;
  held_item_id: string | null;
  details: ColumnType<Record<string, unknown>, string | undefined, string>;
  state: Generated<"pending" | "processing" | "done" | "failed" | "cancelled">;
  attempts: Generated<number>;
  next_attempt_at: CreatedAt;
  locked_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_error: string | null;
  outcome: string | null;
  created_at: CreatedAt;
  done_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}
/** classifier_states: per tenant, the content classifier's revision and the messages it learnt per class (2000). */
export interface ClassifierStatesTable {
  tenant_id: string;
  /** Bumped by every change; the token rows a change wrote carry it in `changed`. */
  revision: ColumnType<number, number | undefined, number>;
  /** The revision of the latest pruning (3400): a copy older than it loads the model whole again. */
  pruned_revision: ColumnType<number, number | undefined, number>;
  ham: ColumnType<number, number | undefined, number>;
  spam: ColumnType<number, number | undefined, number>;
  phish: ColumnType<number, number | undefined, number>;
  updated_at: CreatedAt;
}

/** sender_allowances (2100): each signed-in sender's recipients-per-hour token bucket, shared by every gateway. */
export interface SenderAllowancesTable {
  user_id: string;
  tokens: number;
  updated_at: Date;
  refusing: Generated<boolean>;
}

/** classifier_tokens (2000): per tenant and token, the messages of each class that contained it. */
export interface ClassifierTokensTable {
  tenant_id: string;
  token: string;
  ham: number;
  spam: number;
  phish: number;
  /** The tenant's revision that last changed this row. */
  changed: number;
}

/** release_requests (0400): a recipient's request to release a phish/malware hold, decided by a security admin. */
export interface ReleaseRequestsTable {
  id: Generated<string>;
  tenant_id: string;
  held_item_id: string;
  requester_id: string;
  note: string | null;
  status: Generated<"pending" | "approved" | "denied" | "expired">;
  decided_by: string | null;
  decided_at: Timestamp | null;
  decision_note: string | null;
  created_at: CreatedAt;
}
/** tenant_secrets (0400): per-tenant keys, e.g. the HMAC key that signs digest links. */
export interface TenantSecretsTable {
  tenant_id: string;
  name: string;
  secret: Uint8Array;
  created_at: CreatedAt;
}
/** key_checks (2500): the fingerprint of each key kept outside the database, checked at start. */
export interface KeyChecksTable {
  name: string;
  fingerprint: string;
  created_at: CreatedAt;
}
/** sign_in_address_failures (2900): the lockout of addresses without a local account (see commands/auth/address-lockout.ts). */
export interface SignInAddressFailuresTable {
  /** SHA-256 (hex) of the trimmed, lower-cased address. */
  address_hash: string;
  failed_logins: Generated<number>;
  locked_until: Timestamp | null;
  /** When its latest failure was counted: past MAILWARD_LOCKOUT_MINUTES the row counts for nothing (and is pruned). */
  updated_at: Timestamp;
}
/** digest_slots (0400): a scheduled digest time that has run for a tenant (so it runs once). */
export interface DigestSlotsTable {
  tenant_id: string;
  slot_at: Timestamp;
  created_at: CreatedAt;
}
/** digest_state (0400): up to when a person's holds were already listed in a digest. */
export interface DigestStateTable {
  tenant_id: string;
  user_id: string;
  last_cutoff: Timestamp;
}
/** digests (0400): one digest mail sent to one person. */
export interface DigestsTable {
  id: Generated<string>;
  tenant_id: string;
  user_id: string;
  cutoff: Timestamp;
  item_count: number;
  message_id: string | null;
  created_at: CreatedAt;
}
/** action_links (0400): a signed, single-use, expiring digest link for one action on one held item. */
export interface ActionLinksTable {
  id: string;
  tenant_id: string;
  digest_id: string | null;
  held_item_id: string;
  user_id: string;
  action: "release" | "release-and-permit" | "block" | "request-release";
  expires_at: Timestamp;
  used_at: Timestamp | null;
  outcome: string | null;
  created_at: CreatedAt;
}
/** archive_retention_policies: how long a tenant keeps mail of one direction (no row: forever). */
export interface ArchiveRetentionPoliciesTable {
  tenant_id: string;
  direction: "inbound" | "outbound" | "internal" | "any";
  keep_days: number;
  updated_by: string | null;
  updated_at: CreatedAt;
}
/** legal_holds: messages matching a query, or a custodian's mail, that retention must never purge. */
export interface LegalHoldsTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  kind: "query" | "custodian";
  query: string | null;
  custodian_user_id: string | null;
  created_by: string | null;
  created_at: CreatedAt;
  lifted_by: string | null;
  lifted_at: Timestamp | null;
  lift_reason: string | null;
}

/** permission_grants (0300): a permission given to one person on purpose, outside roles (archive.read_any, held.read_any). */
export interface PermissionGrantsTable {
  id: Generated<string>;
  tenant_id: string;
  user_id: string;
  permission: string;
  reason: string;
  granted_by: string | null;
  expires_at: Timestamp | null;
  created_at: CreatedAt;
}
/** password_resets (0300): single-use, expiring password-reset and invitation links, stored by token hash. */
export interface PasswordResetsTable {
  id: string;
  tenant_id: string;
  user_id: string;
  purpose: "reset" | "invite";
  expires_at: Timestamp;
  used_at: Timestamp | null;
  created_at: CreatedAt;
}
/** smtp_passwords (1100): per-device secrets for the gateway's SMTP AUTH, stored as their SHA-256. */
export interface SmtpPasswordsTable {
  id: Generated<string>;
  tenant_id: string;
  user_id: string;
  label: string;
  secret_hash: string;
  created_at: CreatedAt;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}
/** user_addresses (1200): a person's other addresses (aliases), lower case, each one person's only. */
export interface UserAddressesTable {
  address: string;
  tenant_id: string;
  user_id: string;
  /** 1300: added by an admin, or read from Entra by the directory sync (which changes only its own). */
  source: Generated<"admin" | "directory">;
  created_at: CreatedAt;
}
/** group_addresses (1400): addresses of the organisation's mail-enabled groups, from Entra (directory sync). */
export interface GroupAddressesTable {
  address: string;
  tenant_id: string;
  /** The group's Entra object id. */
  group_oid: string;
  display_name: string;
  created_at: CreatedAt;
}
/** group_members (1600): the people in each group (transitive, from Entra by the directory sync). */
export interface GroupMembersTable {
  tenant_id: string;
  /** The group's Entra object id (group_addresses.group_oid). */
  group_oid: string;
  user_id: string;
  created_at: CreatedAt;
}
/** directory_rounds (1700): each organisation's last directory-sync round (its report as JSON). */
export interface DirectoryRoundsTable {
  tenant_id: string;
  at: Timestamp;
  report: Json<Record<string, unknown>>;
}
/** directory_leases (1800): which instance reads an organisation's directory now, and which read it last. */
export interface DirectoryLeasesTable {
  tenant_id: string;
  holder: string;
  until: Timestamp;
  finished_by: string | null;
  finished_at: Timestamp | null;
}
/** graph_subscription_claims (3460): which instance is changing a mailbox folder's Graph subscription now. */
export interface GraphSubscriptionClaimsTable {
  mailbox_id: string;
  folder: string;
  holder: string;
  until: Timestamp;
}
/** entra_auth_requests (0300): state, nonce and PKCE verifier of an Entra portal sign-in in progress. */
export interface EntraAuthRequestsTable {
  id: string;
  nonce: string;
  code_verifier: string;
  return_to: Generated<string>;
  expires_at: Timestamp;
  created_at: CreatedAt;
}

/** classifier_training (0200): which label each message taught the tenant's classifier (so feedback is learned once). */
export interface ClassifierTrainingTable {
  tenant_id: string;
  message_id: string;
  label: "ham" | "spam" | "phish";
  learned_at: CreatedAt;
}

/** classifier_corpus (1900): labelled mail an administrator trained the classifier on, by SHA-256 (learned once). */
export interface ClassifierCorpusTable {
  tenant_id: string;
  sha256: string;
  label: "ham" | "spam" | "phish";
  learned_at: CreatedAt;
}

/** The whole schema as Kysely sees it. Areas add their tables here as they add migrations. */
export interface Database {
  tenants: TenantsTable;
  tenant_domains: TenantDomainsTable;
  teams: TeamsTable;
  partners: PartnersTable;
  users: UsersTable;
  role_assignments: RoleAssignmentsTable;
  sessions: SessionsTable;
  audit_heads: AuditHeadsTable;
  audit_events: AuditEventsTable;
  message_blobs: MessageBlobsTable;
  messages: MessagesTable;
  mailbox_links: MailboxLinksTable;
  held_items: HeldItemsTable;
  sender_rules: SenderRulesTable;
  reports: ReportsTable;
  deliveries: DeliveriesTable;
  graph_mailboxes: GraphMailboxesTable;
  graph_subscriptions: GraphSubscriptionsTable;
  graph_notifications: GraphNotificationsTable;
  graph_messages: GraphMessagesTable;
  graph_actions: GraphActionsTable;
  classifier_states: ClassifierStatesTable;
  classifier_training: ClassifierTrainingTable;
  classifier_corpus: ClassifierCorpusTable;
  classifier_tokens: ClassifierTokensTable;
  sender_allowances: SenderAllowancesTable;
  permission_grants: PermissionGrantsTable;
  password_resets: PasswordResetsTable;
  entra_auth_requests: EntraAuthRequestsTable;
  release_requests: ReleaseRequestsTable;
  tenant_secrets: TenantSecretsTable;
  digest_slots: DigestSlotsTable;
  digest_state: DigestStateTable;
  digests: DigestsTable;
  action_links: ActionLinksTable;
  archive_retention_policies: ArchiveRetentionPoliciesTable;
  legal_holds: LegalHoldsTable;
  smtp_passwords: SmtpPasswordsTable;
  user_addresses: UserAddressesTable;
  group_addresses: GroupAddressesTable;
  group_members: GroupMembersTable;
  directory_rounds: DirectoryRoundsTable;
  directory_leases: DirectoryLeasesTable;
  graph_subscription_claims: GraphSubscriptionClaimsTable;
  key_checks: KeyChecksTable;
  sign_in_address_failures: SignInAddressFailuresTable;
}
