import type { SenderKind } from "../../shared/schemas/senders";
import { asApiError } from "../api/errors";
import type { MailwardApi } from "../api/endpoints";
import {
  currentMessage,
  getEmlBase64,
  readMessageFacts,
  showNotification,
  type MessageFacts,
} from "../office/item";
import { saveLastAction, type LastAction } from "../office/lastAction";
import { runCommand, type CompletableEvent, type SpamReportEvent } from "./complete";
import type { ReportConfirmation } from "./confirm";
import type { CommandFunctionName } from "./names";

/** What the handlers need from the outside world; tests pass fakes, commands/index.ts the real ones. */
export interface CommandDeps {
  /** The API client (created lazily: auth needs Office to be ready). */
  api(): Promise<MailwardApi>;
  /** Asks the person to confirm a phishing report. */
  confirmReport(facts: MessageFacts): Promise<ReportConfirmation>;
  /** Remembers a block/permit so the task pane can offer Undo. */
  recordAction?(action: LastAction): void;
}

/** The handler Outlook calls for each FunctionName in the manifest. */
export type CommandHandlers = Record<CommandFunctionName, (event: CompletableEvent) => Promise<void>>;

const SPAM_OPTION_PHISH = 0; // order of <Option> in the manifest's ReportingOptions

function senderRuleHandler(deps: CommandDeps, kind: SenderKind) {
  return (event: CompletableEvent) =>
    runCommand(event, async (complete) => {
      const item = currentMessage();
      if (!item) return complete();
      const facts = readMessageFacts(item);
      if (!facts.senderAddress) {
        await showNotification(
          item,
          "error",
          "Mailward can't tell who sent this message, so nothing was changed.",
        );
        return complete();
      }
      try {
        const rule = await (await deps.api()).senders.create({ pattern: facts.senderAddress, kind });
        (deps.recordAction ?? saveLastAction)({
          kind,
          ruleId: rule.id,
          pattern: rule.pattern,
          at: new Date().toISOString(),
        });
        const text =
          kind === "block"
            ? `Blocked ${rule.pattern}. Future mail is held for you. Undo it in the Mailward pane.`
            : `Permitted ${rule.pattern}. Future mail is delivered unless it is dangerous.`;
        await showNotification(item, "info", text);
      } catch (error) {
        await showNotification(
          item,
          "error",
          `Not ${kind === "block" ? "blocked" : "permitted"}: ${asApiError(error).message}`,
        );
      }
      complete();
    });
}

function reportPhishHandler(deps: CommandDeps) {
  return (event: CompletableEvent) =>
    runCommand(event, async (complete) => {
      const item = currentMessage();
      if (!item) return complete();
      const facts = readMessageFacts(item);
      let answer: ReportConfirmation;
      try {
        answer = await deps.confirmReport(facts);
      } catch {
        await showNotification(
          item,
          "error",
          "Couldn't ask for confirmation, so nothing was reported. Use Report in the Mailward pane.",
        );
        return complete();
      }
      if (!answer.confirmed) {
        await showNotification(item, "info", "Report cancelled. Nothing was sent.");
        return complete();
      }
      try {
        const eml = await getEmlBase64(item);
        const report = await (
          await deps.api()
        ).reports.create({
          kind: "phish",
          internetMessageId: facts.internetMessageId ?? undefined,
          restId: facts.restId ?? undefined,
          eml: eml ?? undefined,
          note: answer.note,
          block: answer.block,
        });
        const blocked = report.blockedRuleId ? " The sender is blocked." : "";
        await showNotification(
          item,
          "info",
          `Reported as phishing. Your security team will review it.${blocked}`,
        );
      } catch (error) {
        await showNotification(item, "error", `Not reported: ${asApiError(error).message}`);
      }
      complete();
    });
}

function reportSpamHandler(deps: CommandDeps) {
  return (event: SpamReportEvent) =>
    runCommand(event, async (complete) => {
      const item = currentMessage();
      if (!item) {
        return complete({
          moveItemTo: Office.MailboxEnums.MoveSpamItemTo.NoMove,
          showPostProcessingDialog: {
            title: "Mailward",
            description: "No message is open, so nothing was reported.",
          },
        });
      }
      const facts = readMessageFacts(item);
      const kind = event.options?.[SPAM_OPTION_PHISH] ? "phish" : "spam";
      const note = event.freeText?.trim() ? event.freeText.trim().slice(0, 2000) : undefined;
      let description: string;
      try {
        const eml = await getEmlBase64(item);
        await (
          await deps.api()
        ).reports.create({
          kind,
          internetMessageId: facts.internetMessageId ?? undefined,
          restId: facts.restId ?? undefined,
          eml: eml ?? undefined,
          note,
        });
        description = `Thank you. Mailward sent this ${kind === "phish" ? "phishing" : "spam"} report to your security team and moved the message to Junk Email.`;
      } catch (error) {
        description = `The report could not be sent (${asApiError(error).message}) The message was moved to Junk Email; report it again from there.`;
      }
      complete({
        moveItemTo: Office.MailboxEnums.MoveSpamItemTo.JunkFolder,
        onErrorDeleteItem: false,
        showPostProcessingDialog: { title: "Mailward", description: description.slice(0, 250) },
      });
    });
}

/** Builds the four function commands. Each calls `event.completed()` exactly once on every path. */
export function createCommandHandlers(deps: CommandDeps): CommandHandlers {
  return {
    blockSender: senderRuleHandler(deps, "block"),
    permitSender: senderRuleHandler(deps, "permit"),
    reportPhish: reportPhishHandler(deps),
    reportSpam: reportSpamHandler(deps),
  };
}
