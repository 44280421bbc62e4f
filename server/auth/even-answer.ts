import { setTimeout as sleep } from "node:timers/promises";
import { ApiError } from "../http/errors";

/**
 * How long, at least, an answer takes that must not tell whether an address has an account: a refused password
 * sign-in (web or SMTP) and a password-reset request. A real account's refusal writes its audit event and a reset
 * composes and queues a mail, which an unknown address does not: measured, 8 ms and 15 to 20 ms more, enough to tell
 * them apart over a few tries. Well above both, so each answer takes this long whatever the address.
 */
export const EVEN_ANSWER_MS = 250;

/** How `work` ended: its value or what it threw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Runs `work` and ends as it ends (its value, or its error thrown again), but when `even(outcome)` holds, no sooner
 * than `floorMs` after it began. Real time, not services.now(): tests freeze that clock.
 */
export async function answerEvenly<T>(
  work: () => Promise<T>,
  even: (outcome: Outcome<T>) => boolean,
  floorMs = EVEN_ANSWER_MS,
): Promise<T> {
  const started = performance.now();
  let outcome: Outcome<T>;
  try {
    outcome = { ok: true, value: await work() };
  } catch (error) {
    outcome = { ok: false, error };
  }
  const left = floorMs - (performance.now() - started);
  if (left > 0 && even(outcome)) await sleep(left);
  if (outcome.ok) return outcome.value;
  throw outcome.error;
}

/** True for a sign-in refusal that an unknown address gets too (wrong credentials, locked): those are evened. */
export function refusedSignIn(outcome: Outcome<unknown>): boolean {
  return (
    !outcome.ok &&
    outcome.error instanceof ApiError &&
    (outcome.error.id === "invalid_credentials" || outcome.error.id === "account_locked")
  );
}
