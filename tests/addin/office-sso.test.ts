import { afterEach, describe, expect, it, vi } from "vitest";
import { createOutlookAuth } from "../../addin/auth/outlookAuth";
import { jwtExpiry, officeSsoApi, tokenViaOfficeSsoOr } from "../../addin/auth/officeSso";

const config = {
  clientId: "00000000-0000-4000-8000-0000000c11e7",
  authority: "https://login.microsoftonline.com/organizations",
  apiScope: "api://mailward.example/00000000-0000-4000-8000-0000000c11e7/access_as_user",
};

/** A token shaped like Entra's (header.payload.signature, base64url); only its payload is read here. */
function jwtWith(payload: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "RS256", typ: "JWT" })}.${part(payload)}.c2lnbmF0dXJl`;
}

/** Office's SSO error: an Error-like object with a numeric code, as `getAccessToken` rejects. */
const notSignedIn = Object.assign(new Error("The user is not signed into Office."), { code: 13001 });

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("Office's own single sign-on, where nested app auth is not available", () => {
  it("prefers OfficeRuntime.auth (every JavaScript-only runtime has it), else Office.auth, else none", () => {
    const officeAuth = { getAccessToken: vi.fn() };
    const runtimeAuth = { getAccessToken: vi.fn() };
    vi.stubGlobal("Office", { auth: officeAuth });
    vi.stubGlobal("OfficeRuntime", { auth: runtimeAuth });
    expect(officeSsoApi()).toBe(runtimeAuth);
    vi.stubGlobal("OfficeRuntime", undefined);
    expect(officeSsoApi()).toBe(officeAuth);
    vi.stubGlobal("Office", { context: {} });
    expect(officeSsoApi()).toBeNull();
  });

  it("reads the token's lifetime from its exp claim, and none from something that is not a JWT", () => {
    expect(jwtExpiry(jwtWith({ exp: 1_900_000_000 }))).toBe(1_900_000_000_000);
    expect(jwtExpiry(jwtWith({ sub: "no exp" }))).toBeNull();
    expect(jwtExpiry("not-a-jwt")).toBeNull();
    expect(jwtExpiry("a.%%%.c")).toBeNull();
  });

  it("signs the Report button in through OfficeRuntime.auth: a Bearer token, sign-in and consent prompts allowed", async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const token = jwtWith({ exp, azp: "d3590ed6-52b3-4102-aeff-aad2292ab01c" });
    const getAccessToken = vi.fn((_options?: Office.AuthOptions) => Promise.resolve(token));
    vi.stubGlobal("Office", { context: { requirements: { isSetSupported: () => false } } });
    vi.stubGlobal("OfficeRuntime", { auth: { getAccessToken } });
    const auth = createOutlookAuth(config);
    expect(await auth.headers("POST")).toEqual({ authorization: `Bearer ${token}` });
    expect(getAccessToken.mock.calls).toEqual([[{ allowSignInPrompt: true, allowConsentPrompt: true }]]);
    // Cached until shortly before exp: no second call to Office.
    await auth.headers("GET");
    expect(getAccessToken).toHaveBeenCalledTimes(1);
  });

  it("falls back to the sign-in dialog when Office's SSO refuses, and straight to it where there is none", async () => {
    const dialog = vi.fn(() => Promise.resolve({ token: "dialog-token", expiresAt: 1 }));
    const refusing = { getAccessToken: vi.fn(() => Promise.reject(notSignedIn)) };
    expect(await tokenViaOfficeSsoOr(refusing, dialog)).toEqual({ token: "dialog-token", expiresAt: 1 });
    expect(refusing.getAccessToken).toHaveBeenCalledTimes(1);
    expect(await tokenViaOfficeSsoOr(null, dialog)).toEqual({ token: "dialog-token", expiresAt: 1 });
    expect(dialog).toHaveBeenCalledTimes(2);
  });

  it("uses a token whose lifetime it cannot read for five minutes only", async () => {
    const office = { getAccessToken: () => Promise.resolve("opaque") };
    const before = Date.now();
    const { expiresAt } = await tokenViaOfficeSsoOr(office, () => Promise.reject(new Error("unused")));
    expect(expiresAt - before).toBeGreaterThanOrEqual(5 * 60_000);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(5 * 60_000);
  });
});
