/**
 * The function-command names Outlook calls (manifest `FunctionName` values). The commands entry registers
 * exactly these, and scripts/validate-manifest.ts refuses a manifest that names any other.
 */
export const COMMAND_FUNCTION_NAMES = ["blockSender", "permitSender", "reportPhish", "reportSpam"] as const;

/** One function-command name. */
export type CommandFunctionName = (typeof COMMAND_FUNCTION_NAMES)[number];
