/**
 * The add-in test files that mock a module (vi.mock of MSAL, of Office's helpers) or stub a global. vitest.config.ts
 * runs them isolated, each in a fresh process (the addin-mocks project), since a module another file had imported
 * first would not see the mock; every other add-in file shares its worker (tests/server/foundation/shared-workers).
 */
export const ADDIN_MODULE_MOCKS = [
  "tests/addin/helpers.test.ts",
  "tests/addin/naa.test.ts",
  "tests/addin/office-dialog.test.ts",
  "tests/addin/office-sso.test.ts",
];
