/**
 * Entry of the UI-less function file (commands.html, and commands.js for Outlook's JavaScript-only runtime).
 * Registers the handlers for every FunctionName in the manifest. Must stay one self-contained bundle.
 */
import { createMailwardApi, type MailwardApi } from "../api/endpoints";
import { createHttpClient } from "../api/http";
import { appOrigin } from "../auth/config";
import { createOutlookAuth } from "../auth/outlookAuth";
import { confirmViaDialog } from "./confirm";
import { createCommandHandlers } from "./handlers";
import { COMMAND_FUNCTION_NAMES } from "./names";

let api: MailwardApi | null = null;

const handlers = createCommandHandlers({
  async api() {
    api ??= createMailwardApi(createHttpClient({ baseUrl: appOrigin(), auth: createOutlookAuth() }));
    return api;
  },
  confirmReport: () => confirmViaDialog(`${appOrigin()}/confirm.html?kind=phish`),
});

if (typeof Office !== "undefined") {
  void Office.onReady();
  for (const name of COMMAND_FUNCTION_NAMES) Office.actions.associate(name, handlers[name]);
}
