import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiRoutes } from "../../server/routes/index";
import { startTestServer, type TestServer } from "../support/server";
import { buildAccessWorld } from "./access/world";
import { parseRouteKey, runAccessCase } from "./access/run";
import type { AccessCase, AccessWorld } from "./access/types";

/**
 * The access matrix (issue 4): every route of the table × every persona ×
 * resources of another user, team, partner and tenant. Each area declares its
 * routes' expected answers in tests/server/access/<area>.expectations.ts
 * (exporting `accessCases`); a route without a declaration fails here, and so
 * does a declaration for a route that no longer exists. One server, many requests.
 */
const EXPECTATIONS_DIR = path.join(path.dirname(new URL(import.meta.url).pathname), "access");

async function loadCases(): Promise<Array<AccessCase & { file: string }>> {
  const files = fs
    .readdirSync(EXPECTATIONS_DIR)
    .filter((f) => f.endsWith(".expectations.ts"))
    .sort();
  const cases: Array<AccessCase & { file: string }> = [];
  for (const file of files) {
    const mod = (await import(path.join(EXPECTATIONS_DIR, file))) as { accessCases?: AccessCase[] };
    if (!Array.isArray(mod.accessCases)) throw new Error(`${file} must export accessCases: AccessCase[]`);
    for (const c of mod.accessCases) cases.push({ ...c, file });
  }
  return cases;
}

const routeKeys = apiRoutes.map((r) => `${r.method.toUpperCase()} ${r.path}`);
const publicRoutes = new Set(
  apiRoutes.filter((r) => r.access.kind === "public").map((r) => `${r.method.toUpperCase()} ${r.path}`),
);
const cases = await loadCases();

describe("the access matrix covers the route table", () => {
  it("every route in apiRoutes declares its expected answers", () => {
    const declared = new Set(cases.map((c) => c.route));
    expect(routeKeys.filter((key) => !declared.has(key))).toEqual([]);
  });

  it("every declaration names a route that exists", () => {
    const known = new Set(routeKeys);
    expect(cases.filter((c) => !known.has(c.route)).map((c) => `${c.file}: ${c.route}`)).toEqual([]);
  });

  it("route keys are unique (one method + path, one handler)", () => {
    expect(routeKeys.length).toBe(new Set(routeKeys).size);
  });
});

describe("the access matrix answers as designed", () => {
  let server: TestServer;
  let world: AccessWorld;

  beforeAll(async () => {
    server = await startTestServer({ MAILWARD_LOGIN_RATE_LIMIT: "100000" });
    world = await buildAccessWorld(server.mailward.services, server.baseUrl);
  });
  afterAll(async () => {
    await server?.stop();
  });

  for (const c of cases.filter((x) => routeKeys.includes(x.route))) {
    const { method, path: routePath } = parseRouteKey(c.route);
    it(`${method} ${routePath}${c.label ? ` (${c.label})` : ""}`, async () => {
      expect(await runAccessCase(world, c, publicRoutes.has(c.route))).toEqual([]);
    });
  }
});
