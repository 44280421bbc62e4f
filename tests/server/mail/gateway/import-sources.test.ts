import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../../../support/db";
import { testServices } from "../../../support/services";
import { tempDir } from "../../../support/temp";
import { buildTenant, buildUser } from "../../../factories";
import { runCliCommand } from "../../../../server/cli/commands";
import type { Services } from "../../../../server/context";

// What `npm run mailward -- import` reads: the sources it takes, and how it answers one it cannot use.
let database: TestDatabase;
let services: Services;
let owner: Awaited<ReturnType<typeof buildUser>>;

beforeAll(async () => {
  database = await createTestDatabase();
  services = testServices(database.handle.db, database.handle.engine);
  const tenant = await buildTenant(services.db, { domains: ["sources.test"] });
  owner = await buildUser(services.db, { tenantId: tenant.id, email: "sam@sources.test" });
});

afterAll(async () => {
  await database?.destroy();
});

async function cli(cwd: string, ...args: string[]) {
  const lines: string[] = [];
  const code = await runCliCommand(services, args, { print: (l) => lines.push(l) }, cwd);
  return { code, output: lines.join("\n") };
}

describe("import <folder>", () => {
  it("fails with import_source_empty, naming the folder, when it holds no .eml file", async () => {
    const here = tempDir("mw-import-empty-");
    fs.mkdirSync(path.join(here, "saved", "sub"), { recursive: true });
    fs.writeFileSync(path.join(here, "saved", "note.msg"), "not an eml");
    fs.writeFileSync(path.join(here, "saved", "sub", "readme.txt"), "nor this");
    const folder = path.join(here, "saved");
    expect(await cli(here, "import", "saved", "--mailbox", owner.email)).toEqual({
      code: 1,
      output: `Error (import_source_empty): ${folder} holds no .eml files (subfolders included), so nothing was imported: point the import at a folder of .eml files or at an mbox file.`,
    });
    expect(await services.db.selectFrom("messages").select("id").execute()).toEqual([]);
  });
});
