import type { Actor } from "../context";

/**
 * Whether a message trace shows subject lines. A trace is for finding out what became of a message
 * (envelope, verdict, delivery); a subject is content, and admin roles do not read other people's
 * mail unless granted archive.read_any on purpose.
 */
export function traceShowsSubjects(actor: Actor): boolean {
  return actor.permissions.has("archive.read_any");
}
