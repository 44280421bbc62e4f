import type { AttachmentLike } from "./attachments";
import type { Signal } from "./types";
import { signal } from "./weights";

/**
 * The two test strings an administrator sends to see a mail filter work, honoured as every
 * incumbent honours them, with or without ClamAV or rspamd behind the built-in engine:
 * - GTUBE (SpamAssassin's Generic Test for Unsolicited Bulk Email) in the body: spam;
 * - the EICAR test file (eicar.org), attached: malware, held whatever the allow lists say.
 */

/** SpamAssassin's GTUBE string. */
export const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

/** The EICAR test file's 68 bytes. */
export const EICAR_TEST_FILE = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

const EICAR_BYTES = Buffer.from(EICAR_TEST_FILE, "latin1");

/** eicar.org's rule: the file starts with the string, may end in whitespace, and is at most 128 bytes. */
function isEicarFile(content: Buffer): boolean {
  if (content.length < EICAR_BYTES.length || content.length > 128) return false;
  if (!content.subarray(0, EICAR_BYTES.length).equals(EICAR_BYTES)) return false;
  // Whitespace and CTRL-Z (the DOS end-of-file mark) may pad the file.
  // eslint-disable-next-line no-control-regex
  return /^[\s\x1a]*$/.test(content.subarray(EICAR_BYTES.length).toString("latin1"));
}

/** Signals for the GTUBE string in the body and the EICAR file among the attachments (nested messages' too). */
export function testStringSignals(
  body: { text?: string | undefined; html?: string | false | undefined },
  attachments: readonly AttachmentLike[],
): Signal[] {
  const signals: Signal[] = [];
  if (body.text?.includes(GTUBE) || (typeof body.html === "string" && body.html.includes(GTUBE)))
    signals.push(
      signal(
        "content.gtube",
        "The message carries GTUBE, the anti-spam test string: it is held as spam to show the filter works.",
      ),
    );
  const eicar = attachments.filter((a) => Buffer.isBuffer(a.content) && isEicarFile(a.content));
  if (eicar.length > 0)
    signals.push(
      signal(
        "attachment.eicar_test",
        "It carries the EICAR antivirus test file: it is held as malware to show the filter works.",
        eicar
          .map((a) => a.filename ?? "(no name)")
          .join(", ")
          .slice(0, 300),
      ),
    );
  return signals;
}
