/**
 * Stable error ids shared by the server and the add-in. A client switches on
 * the id, never on the message; the HTTP status is fixed per id.
 */
export const ERRORS = {
  invalid_request: { status: 400, message: "The request is not valid." },
  invalid_json: { status: 400, message: "The request body is not valid JSON." },
  invalid_query: { status: 400, message: "The search query could not be understood." },
  invalid_credentials: { status: 401, message: "The email or password is wrong." },
  mfa_required: { status: 401, message: "Enter the code from your authenticator app." },
  invalid_mfa_code: { status: 401, message: "The authenticator code is wrong or was already used." },
  unauthenticated: { status: 401, message: "Sign in to continue." },
  invalid_token: { status: 401, message: "The access token is not valid." },
  token_expired: { status: 401, message: "The access token has expired. Sign in again." },
  token_not_yet_valid: { status: 401, message: "The access token is not valid yet (check the clock)." },
  token_algorithm_not_allowed: { status: 401, message: "The access token is not signed with RS256." },
  token_signature_invalid: { status: 401, message: "The access token's signature does not verify." },
  token_unknown_key: {
    status: 401,
    message: "The access token is signed with a key the tenant does not publish.",
  },
  token_wrong_audience: { status: 401, message: "The access token was issued for another application." },
  token_wrong_issuer: {
    status: 401,
    message: "The access token comes from an issuer this server does not trust.",
  },
  token_tenant_not_allowed: {
    status: 401,
    message: "Your organisation's tenant is not allowed to use this server.",
  },
  token_tenant_mismatch: { status: 401, message: "The access token's tenant does not match its issuer." },
  token_missing_scope: { status: 401, message: "The access token lacks the access_as_user scope." },
  token_client_not_allowed: {
    status: 403,
    message:
      "The access token was obtained by an application this server does not accept. Use the Mailward add-in or portal.",
  },
  account_not_provisioned: {
    status: 403,
    message: "Your account does not exist here yet. Ask your administrator to add it.",
  },
  entra_not_configured: { status: 503, message: "Sign-in with Microsoft is not configured on this server." },
  entra_sign_in_failed: {
    status: 401,
    message: "Sign-in with Microsoft failed or was cancelled. Try again.",
  },
  mfa_enrolment_required: {
    status: 403,
    message: "Your role requires an authenticator app. Enrol one in Settings before you continue.",
  },
  totp_already_enabled: { status: 409, message: "An authenticator app is already enrolled." },
  totp_not_started: { status: 409, message: "Start the authenticator enrolment first." },
  password_too_weak: { status: 400, message: "The password does not meet the password policy." },
  reset_link_invalid: {
    status: 400,
    message: "The link is invalid, expired or was already used. Ask for a new one.",
  },
  last_tenant_admin: { status: 409, message: "The organisation must keep at least one active tenant admin." },
  domain_in_use: {
    status: 409,
    message:
      "People, other addresses or groups in this domain still take mail: disable or remove them first.",
  },
  team_not_empty: {
    status: 409,
    message: "People are still in this team, or lead it: move them to another team first.",
  },
  partner_not_empty: {
    status: 409,
    message: "People or teams still belong to this partner group: move or remove them first.",
  },
  team_group_mismatch: {
    status: 409,
    message:
      "A person's team must belong to their own partner group (an in-house person's to an in-house team). Choose a team of the same group.",
  },
  role_scoped_to_group: {
    status: 409,
    message:
      "The person holds a role scoped to their partner group or team: take that role away first, then change their partner group.",
  },
  role_scope_outside_group: {
    status: 409,
    message:
      "A team lead leads a team of their own partner group (an in-house person an in-house team), and a partner's person administers only their own partner group. Choose a team or group of theirs.",
  },
  address_in_other_organisation_domain: {
    status: 409,
    message:
      "The address is in a mail domain another organisation on this server has proved, so its addresses are that organisation's. Use an address in one of your own domains, or a domain no organisation here has proved.",
  },
  role_scope_required: {
    status: 400,
    message:
      "An in-house person administers a partner group only when the grant names it: give the partner group's id as scopeId, or make them one of that group's people first.",
  },
  domain_not_verified: {
    status: 422,
    message: "The domain's DNS does not have its verification TXT record yet. Publish it, then check again.",
  },
  csrf_failed: { status: 403, message: "The request was refused: the CSRF token is missing or wrong." },
  forbidden: { status: 403, message: "You do not have permission to do this." },
  account_locked: { status: 423, message: "Too many failed sign-ins. Try again later." },
  account_disabled: { status: 403, message: "This account is disabled. Ask your administrator." },
  not_found: { status: 404, message: "Not found." },
  route_not_found: { status: 404, message: "There is no such API route." },
  conflict: { status: 409, message: "The request conflicts with the current state." },
  already_exists: { status: 409, message: "It already exists." },
  expired: { status: 410, message: "It has expired." },
  payload_too_large: {
    status: 413,
    message: "The request body is larger than this request accepts. Send a smaller body.",
  },
  export_too_large: {
    status: 422,
    message:
      "More messages match than one export holds. Narrow the query (after:, before:) and export in parts.",
  },
  import_source_empty: {
    status: 422,
    message: "The folder holds no .eml files: point the import at a folder of .eml files or at an mbox file.",
  },
  unsupported_media_type: { status: 415, message: "Send the body as application/json." },
  release_not_allowed: {
    status: 403,
    message:
      "This message was held as phishing or malware. Request a release and a security admin will review it.",
  },
  spoofing_not_allowed: { status: 422, message: "You cannot permit your own address or domain." },
  smtp_not_available: {
    status: 403,
    message:
      "Your address is not in one of your organisation's domains, so the gateway does not take mail from it.",
  },
  recent_sign_in_required: {
    status: 403,
    message:
      "For your safety, this needs a recent sign-in. Sign out, sign in again, then try once more within a few minutes.",
  },
  too_many_smtp_passwords: {
    status: 409,
    message:
      "You have the most SMTP passwords allowed. Revoke one you no longer use, then create the new one.",
  },
  backup_not_embedded: {
    status: 409,
    message:
      "Mailward backs up its embedded database only: on a PostgreSQL server, use pg_basebackup or pg_dump (README, 'Backups').",
  },
  backup_folder_not_empty: {
    status: 409,
    message: "The backup folder already exists and is not empty: name a new folder.",
  },
  backup_failed: {
    status: 503,
    message: "The backup could not be completed, and nothing of it was kept. Run it again.",
  },
  rate_limited: { status: 429, message: "Too many requests. Slow down and try again shortly." },
  service_unavailable: { status: 503, message: "The service is temporarily unavailable. Try again shortly." },
  internal_error: { status: 500, message: "Something went wrong on our side. It has been logged." },
} as const satisfies Record<string, { status: number; message: string }>;

/** The union of every stable error id. */
export type ErrorId = keyof typeof ERRORS;

/** The JSON body of every error response. */
export interface ErrorBody {
  error: ErrorId;
  message: string;
  details?: unknown;
}
