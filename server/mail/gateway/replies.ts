/** An error with an SMTP reply code, as smtp-server expects. */
export function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

/** Whether an error is already an SMTP answer (else the gateway answers 451 and logs it). */
export function hasResponseCode(err: unknown): err is Error & { responseCode: number } {
  return err instanceof Error && typeof (err as { responseCode?: unknown }).responseCode === "number";
}

/** The answer to a failure that is not an SMTP answer of its own: the client tries again later. */
export const TEMPORARY = () => smtpError(451, "4.3.0 Temporary failure, try again later");

/** An error's message alone, for a log line (no stack, no fields that could carry message text). */
export function errMessage(err: unknown): { message: string } {
  return { message: err instanceof Error ? err.message : String(err) };
}
