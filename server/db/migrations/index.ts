import type { Migration } from "kysely";
import * as core from "./0001_core";
import * as gateway from "./0200_gateway";
import * as identity from "./0300_identity";
import * as archive from "./0500_archive";
import * as selfservice from "./0400_selfservice";
import * as selfserviceIndexes from "./0401_selfservice_indexes";
import * as graph from "./0600_graph";
import * as transientDeliveryRaw from "./0700_transient_delivery_raw";
import * as commonGrams from "./0800_common_grams";
import * as graphSendLookup from "./0900_graph_send_lookup";
import * as trigramEverywhere from "./0901_trigram_everywhere";
import * as commonGramsPlpgsql from "./0902_common_grams_plpgsql";
import * as messagesLz4 from "./0903_messages_lz4";
import * as messageTrace from "./1000_message_trace";
import * as dropMessageBodyHtml from "./1001_drop_message_body_html";
import * as smtpPasswords from "./1100_smtp_passwords";
import * as userAddresses from "./1200_user_addresses";
import * as directoryAddresses from "./1300_directory_addresses";
import * as groupAddresses from "./1400_group_addresses";
import * as usersLeftDirectory from "./1500_users_left_directory";
import * as groupMembers from "./1600_group_members";
import * as directoryRounds from "./1700_directory_rounds";
import * as directoryLeases from "./1800_directory_leases";
import * as classifierCorpus from "./1900_classifier_corpus";
import * as classifierTokens from "./2000_classifier_tokens";
import * as senderAllowances from "./2100_sender_allowances";
import * as domainVerification from "./2200_domain_verification";
import * as graphOldMail from "./2300_graph_old_mail";
import * as auditHeadGuard from "./2400_audit_head_guard";
import * as keyChecks from "./2500_key_checks";
import * as copySessions from "./2600_copy_sessions";
import * as reportReplacedRule from "./2700_report_replaced_rule";
import * as userDisabledByPartner from "./2800_user_disabled_by_partner";
import * as signInAddressFailures from "./2900_sign_in_address_failures";
import * as teamPartners from "./2901_team_partners";
import * as heldRule from "./3100_held_rule";
import * as teamPartnerNames from "./3200_team_partner_names";
import * as signInFailureWindow from "./3250_sign_in_failure_window";
import * as usersTeamIndex from "./3300_users_team_index";
import * as credentialExpiryIndexes from "./3310_credential_expiry_indexes";
import * as usersAddressIndex from "./3320_users_address_index";
import * as heldSender from "./3330_held_sender";
import * as classifierPruning from "./3400_classifier_pruning";
import * as graphFolderSync from "./3410_graph_folder_sync";
import * as heldReviewSorts from "./3420_held_review_sorts";
import * as deliveryRcptTo from "./3430_delivery_rcpt_to";
import * as heldRelayEnvelope from "./3440_held_relay_envelope";
import * as commonGramsSinglePass from "./3450_common_grams_single_pass";
import * as graphSubscriptionClaims from "./3460_graph_subscription_claims";

/**
 * Every migration, in order. Kysely's Migrator runs them by name; a static
 * list (rather than a directory scan) works the same under tsx, vitest and bundlers.
 */
export const migrations: Record<string, Migration> = {
  "0001_core": core,
  "0200_gateway": gateway,
  "0300_identity": identity,
  "0500_archive": archive,
  "0400_selfservice": selfservice,
  "0401_selfservice_indexes": selfserviceIndexes,
  "0600_graph": graph,
  "0700_transient_delivery_raw": transientDeliveryRaw,
  "0800_common_grams": commonGrams,
  "0900_graph_send_lookup": graphSendLookup,
  "0901_trigram_everywhere": trigramEverywhere,
  "0902_common_grams_plpgsql": commonGramsPlpgsql,
  "0903_messages_lz4": messagesLz4,
  "1000_message_trace": messageTrace,
  "1001_drop_message_body_html": dropMessageBodyHtml,
  "1100_smtp_passwords": smtpPasswords,
  "1200_user_addresses": userAddresses,
  "1300_directory_addresses": directoryAddresses,
  "1400_group_addresses": groupAddresses,
  "1500_users_left_directory": usersLeftDirectory,
  "1600_group_members": groupMembers,
  "1700_directory_rounds": directoryRounds,
  "1800_directory_leases": directoryLeases,
  "1900_classifier_corpus": classifierCorpus,
  "2000_classifier_tokens": classifierTokens,
  "2100_sender_allowances": senderAllowances,
  "2200_domain_verification": domainVerification,
  "2300_graph_old_mail": graphOldMail,
  "2400_audit_head_guard": auditHeadGuard,
  "2500_key_checks": keyChecks,
  "2600_copy_sessions": copySessions,
  "2700_report_replaced_rule": reportReplacedRule,
  "2800_user_disabled_by_partner": userDisabledByPartner,
  "2900_sign_in_address_failures": signInAddressFailures,
  "2901_team_partners": teamPartners,
  "3100_held_rule": heldRule,
  "3200_team_partner_names": teamPartnerNames,
  "3250_sign_in_failure_window": signInFailureWindow,
  "3300_users_team_index": usersTeamIndex,
  "3310_credential_expiry_indexes": credentialExpiryIndexes,
  "3320_users_address_index": usersAddressIndex,
  "3330_held_sender": heldSender,
  "3400_classifier_pruning": classifierPruning,
  "3410_graph_folder_sync": graphFolderSync,
  "3420_held_review_sorts": heldReviewSorts,
  "3430_delivery_rcpt_to": deliveryRcptTo,
  "3440_held_relay_envelope": heldRelayEnvelope,
  "3450_common_grams_single_pass": commonGramsSinglePass,
  "3460_graph_subscription_claims": graphSubscriptionClaims,
};
