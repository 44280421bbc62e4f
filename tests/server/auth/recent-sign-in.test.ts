import { describe, expect, it } from "vitest";
import type { Actor } from "../../../server/context";
import { systemActor } from "../../../server/auth/actor";
import { signedInRecently } from "../../../server/policies/step-up";

// What a credential that outlives the session (an SMTP password) asks of the caller's sign-in.
const NOW = new Date("2026-11-30T06:00:00Z");
const person = (via: Actor["via"], minutesAgo?: number): Actor => ({
  ...systemActor("00000000-0000-0000-0000-000000000001", "tina@example.com"),
  via,
  ...(minutesAgo === undefined ? {} : { signedInAt: new Date(NOW.getTime() - minutesAgo * 60_000) }),
});

describe("a recent sign-in", () => {
  it("counts a portal session from its sign-in, up to the limit", () => {
    expect(signedInRecently(person("session", 0), NOW, 15)).toBe(true);
    expect(signedInRecently(person("session", 15), NOW, 15)).toBe(true);
    expect(signedInRecently(person("session", 15.01), NOW, 15)).toBe(false);
    expect(signedInRecently(person("session", 30), NOW, 60)).toBe(true);
  });

  it("is never assumed for a session whose sign-in is unknown, nor for the system", () => {
    expect(signedInRecently(person("session"), NOW, 15)).toBe(false);
    expect(signedInRecently(person("system", 0), NOW, 15)).toBe(false);
  });

  it("leaves a bearer token's sign-in to Entra ID and Office", () => {
    expect(signedInRecently(person("bearer"), NOW, 15)).toBe(true);
  });
});
