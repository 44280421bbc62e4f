import { randomBytes } from "node:crypto";

/** What the archived copy of a credential mail shows where a link was. */
export const REMOVED_LINK = "[link removed from the archived copy]";

/**
 * The text with every credential (a link that acts without a sign-in: password reset, invitation, digest
 * action) replaced, so the archived copy of the mail cannot be used by whoever reads the archive.
 */
export function withoutCredentials(text: string, credentials: readonly string[]): string {
  let result = text;
  for (const credential of credentials)
    if (credential !== "") result = result.replaceAll(credential, REMOVED_LINK);
  return result;
}

/**
 * A Message-ID for mail Mailward writes itself, fixed before composing so the delivered copy and the
 * archived copy of a credential mail carry the same one.
 */
export function systemMessageId(purpose: string, domain: string): string {
  return `<${purpose}.${randomBytes(12).toString("hex")}@${domain}>`;
}
