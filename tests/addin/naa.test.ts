import { afterEach, describe, expect, it, vi } from "vitest";

// Nested app authentication as MSAL provides it; here MSAL's factory is replaced, the one thing that needs Outlook.
const factory = vi.hoisted(() => ({ create: vi.fn() }));
vi.mock("@azure/msal-browser", () => ({ createNestablePublicClientApplication: factory.create }));

import { createNaaTokenProvider } from "../../addin/auth/naa";

const config = {
  clientId: "00000000-0000-4000-8000-0000000c11e7",
  authority: "https://login.microsoftonline.com/organizations",
  apiScope: "api://mailward.example/00000000-0000-4000-8000-0000000c11e7/access_as_user",
};

afterEach(() => {
  vi.unstubAllGlobals();
  factory.create.mockReset();
});

describe("tokens through nested app authentication", () => {
  it("tries nested app auth again after its start failed once, instead of the dialog for good", async () => {
    vi.stubGlobal("Office", { context: { requirements: { isSetSupported: () => true } } });
    const expiresOn = new Date(Date.now() + 3_600_000);
    factory.create.mockRejectedValueOnce(new Error("bridge not ready")).mockResolvedValueOnce({
      getActiveAccount: () => null,
      getAllAccounts: () => [],
      acquireTokenSilent: () => Promise.resolve({ accessToken: "naa-token", expiresOn }),
    });
    const dialog = vi.fn(() => Promise.resolve({ token: "dialog-token", expiresAt: 1 }));
    const provider = createNaaTokenProvider(config, dialog);
    expect(await provider.getToken(false)).toEqual({ token: "dialog-token", expiresAt: 1 });
    expect(await provider.getToken(false)).toEqual({ token: "naa-token", expiresAt: expiresOn.getTime() });
    expect(dialog).toHaveBeenCalledTimes(1);
    expect(factory.create).toHaveBeenCalledTimes(2);
  });
});
