/** Public surface of the fake Entra ID used by tests (see tests/fakes/README.md). */
export { startEntraFake, type EntraFake } from "./server";
export { createMsalNetworkClient, type MsalNetworkClient, type MsalNetworkLogEntry } from "./msal-network";
export { FOREIGN_TENANT_ID, OTHER_AUDIENCE, type BadTokenFactories } from "./bad-tokens";
export { DEFAULT_API_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID } from "./context";
export {
  DEFAULT_GRAPH_APP_ROLES,
  GRAPH_RESOURCE,
  type AccessTokenClaims,
  type EntraFakeOptions,
  type FakeEntraApp,
  type FakeEntraUser,
  type GraphTokenOptions,
  type TokenRequestLogEntry,
} from "./types";
