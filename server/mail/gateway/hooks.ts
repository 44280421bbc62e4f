import type { Services } from "../../context";
import { authenticateSubmitter, signInStands } from "../../commands/auth/smtp-sign-in";
import { answerEvenly } from "../../auth/even-answer";
import { recordSendAsRefused, recordSenderLimited } from "../../commands/auth/submission-events";
import type { MailPipeline } from "../pipeline/index";
import type { GatewayHooks } from "./listener";
import { errMessage, smtpError } from "./replies";

/**
 * The gateway's hooks over the mail pipeline. Recipients: an outside address
 * is a relay attempt (554) unless the sender signed in; an address in one of
 * our domains must be a user's (primary, alias or plus form) or a group's
 * (550 5.1.1). Each message then goes through the pipeline, which commits
 * before the 250.
 */
export function createGatewayHooks(services: Services, pipeline: MailPipeline): GatewayHooks {
  return {
    async onRcptTo(address, sender) {
      const [lookup] = await pipeline.directory.lookupRecipients([address]);
      if (!lookup) throw smtpError(501, "5.1.3 Bad recipient address syntax");
      if (lookup.kind === "unknown_user")
        throw smtpError(550, `5.1.1 <${address}>: Recipient address rejected: User unknown`);
      if (lookup.kind === "external" && !sender)
        throw smtpError(554, `5.7.1 <${address}>: Relay access denied`);
    },
    // A refusal takes as long whether or not the username is someone's (server/auth/even-answer.ts).
    authenticate: (username, password, ip) =>
      answerEvenly(
        () => authenticateSubmitter(services, username, password, ip),
        (outcome) => outcome.ok && outcome.value === null,
      ),
    signInStands: (sender) => signInStands(services, sender),
    senderLimited: (sender, ip) => recordSenderLimited(services, sender, ip),
    async ingest(raw, envelope) {
      const outcome = await pipeline.process({
        raw,
        source: "smtp",
        envelope: {
          mailFrom: envelope.mailFrom,
          rcptTo: envelope.rcptTo,
          clientIp: envelope.clientIp,
          helo: envelope.helo,
          tls: envelope.tls,
          sender: envelope.authenticatedUser,
        },
      });
      if (outcome.kind === "accepted") return { accepted: true, id: outcome.messageIds[0] ?? "" };
      if (outcome.kind === "send_as_refused" && envelope.authenticatedUser) {
        // The refusal stands even if recording it fails: the sender gets the 550 either way.
        await recordSendAsRefused(
          services,
          envelope.authenticatedUser,
          envelope.clientIp,
          outcome.message,
        ).catch((err: unknown) =>
          services.logger.error({ err: errMessage(err) }, "send-as refusal not recorded"),
        );
      }
      return { accepted: false, code: outcome.code, message: outcome.message };
    },
  };
}
