import { describe, expect, it } from "vitest";
import { entraSettingsFrom, OFFICE_SSO_CLIENT_IDS } from "../../../server/auth/entra/settings";
import { testConfig } from "../../support/services";

const API_CLIENT = "00000000-0000-4000-8000-0000000c11e7";
const PARTNER_APP = "0badc0de-0000-4000-8000-000000000001";

function allowedClients(env: Record<string, string>): string[] {
  const settings = entraSettingsFrom(testConfig({ MAILWARD_ENTRA_CLIENT_ID: API_CLIENT, ...env }));
  if (!settings) throw new Error("Entra settings expected");
  return [...settings.allowedClients].sort();
}

describe("which client applications may call the API", () => {
  it("our own registration and Office's documented SSO clients by default", () => {
    expect(allowedClients({})).toEqual([API_CLIENT, ...OFFICE_SSO_CLIENT_IDS].sort());
  });

  it("only our own registration and the listed apps when Office SSO is turned off", () => {
    expect(
      allowedClients({
        MAILWARD_ENTRA_OFFICE_SSO: "false",
        MAILWARD_ENTRA_ALLOWED_CLIENTS: ` ${PARTNER_APP.toUpperCase()} ,`,
      }),
    ).toEqual([API_CLIENT, PARTNER_APP].sort());
  });
});
