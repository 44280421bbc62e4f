import { clipUtf8 } from "./parse";

/**
 * The spellings one Internet Message-ID may be stored or asked under: `<abc@host>` and `abc@host` name the same
 * message (Outlook sends it with angle brackets, some clients without; the archive stores what the header said),
 * and the text as given; each also cut as the archive cuts an id past 998 UTF-8 bytes (`clipUtf8`).
 */
export function messageIdForms(id: string): string[] {
  const bare = id.trim().replace(/^<|>$/g, "");
  return [...new Set([`<${bare}>`, bare, id.trim()].flatMap((form) => [form, clipUtf8(form)]))];
}
