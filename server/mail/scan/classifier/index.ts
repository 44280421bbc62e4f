import type { ParsedMail } from "mailparser";
import { tokenize, type TokenizerInput } from "./tokenizer";

export { ContentClassifier, CLASS_INDEX, CLASS_LABELS, DEFAULT_CLASSIFIER_OPTIONS } from "./model";
export type { ClassLabel, ClassifierState, Classification, ClassifierOptions } from "./model";
export { tokenize, textTokens } from "./tokenizer";
export type { TokenizerInput } from "./tokenizer";

/** The tokenizer's view of a parsed message (so callers never hand-build it). */
export function tokenizerInput(parsed: ParsedMail): TokenizerInput {
  const from = parsed.from?.value?.[0];
  return {
    subject: typeof parsed.subject === "string" ? parsed.subject : undefined,
    text: typeof parsed.text === "string" ? parsed.text : undefined,
    html: parsed.html,
    headers: parsed.headers instanceof Map ? parsed.headers : undefined,
    fromAddress: from?.address,
    fromName: from?.name,
    attachments: Array.isArray(parsed.attachments) ? parsed.attachments : undefined,
  };
}

/**
 * The tokens of a parsed message: what the gateway passes to `learn` when an
 * agent reports a message (spam/phish) or releases one (ham).
 */
export function messageTokens(parsed: ParsedMail): string[] {
  return tokenize(tokenizerInput(parsed));
}
