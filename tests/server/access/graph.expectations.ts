import type { AccessCase } from "./types";

/** Expected answers of the Graph connector's admin routes (issue 8): policies.read to look, policies.manage to switch. */
export const accessCases: AccessCase[] = [
  {
    kind: "caller",
    route: "GET /api/admin/graph",
    expect: { security_admin: 200, auditor: 200, tenant_admin: 200, anonymous: 401, default: 403 },
  },
  {
    kind: "caller",
    route: "PUT /api/admin/graph/mode",
    // Switching to the mode the matrix tenant already has changes nothing for the other cases.
    request: () => ({ path: "/api/admin/graph/mode", body: { mode: "gateway" } }),
    expect: { security_admin: 200, tenant_admin: 200, anonymous: 401, default: 403 },
  },
];
