import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { startMailward, type Mailward } from "../../../server/runtime";
import { loadServerKey } from "../../../server/auth/server-key";
import { openTotpSecret, sealTotpSecret } from "../../../server/auth/totp-at-rest";
import { createLogger } from "../../../server/logger";
import type { DatabaseTarget } from "../../../server/db/connection";
import { freshDatabaseTarget } from "../../support/db";
import { testConfig } from "../../support/services";
import { ApiClient } from "../../support/http";
import { buildUser } from "../../factories";
import { codeAt, defaultTenantId } from "./auth-helpers";

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mailward-key-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const silent = createLogger("silent");

describe("loadServerKey", () => {
  it("makes MAILWARD_DATA_DIR/secret.key (0600) at the first start and reads it after", () => {
    const dataDir = tempDir();
    const config = testConfig({ MAILWARD_DATA_DIR: dataDir, MAILWARD_SECRET_KEY: "" });
    const first = loadServerKey(config, silent, false);
    const file = path.join(dataDir, "secret.key");
    expect(first.source).toBe(file);
    expect(first.key).toHaveLength(32);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadServerKey(config, silent, false).key.equals(first.key)).toBe(true);
    expect(fs.readdirSync(dataDir)).toEqual(["secret.key"]);
  });

  it("takes MAILWARD_SECRET_KEY in base64, base64url or hex, or a file holding it, and names it when it is neither", () => {
    const key = randomBytes(32);
    const load = (value: string) => loadServerKey(testConfig({ MAILWARD_SECRET_KEY: value }), silent, false);
    expect(load(key.toString("base64")).key.equals(key)).toBe(true);
    expect(load(key.toString("base64url")).key.equals(key)).toBe(true);
    expect(load(key.toString("hex")).key.equals(key)).toBe(true);
    const file = path.join(tempDir(), "mailward.key");
    fs.writeFileSync(file, `${key.toString("hex")}\n`);
    expect(load(file)).toEqual({ key, source: `MAILWARD_SECRET_KEY (${file})` });
    const short = randomBytes(16).toString("base64");
    expect(() => load(short)).toThrow(/MAILWARD_SECRET_KEY=\(hidden\): expected 32 bytes/);
    expect(() => load(short)).not.toThrow(short);
    fs.writeFileSync(file, "not a key\n");
    expect(() => load(file)).toThrow(/does not hold 32 bytes/);
  });

  it("warns, on a shared PostgreSQL database, that instances must share one MAILWARD_SECRET_KEY", () => {
    const lines: string[] = [];
    const logger = createLogger("warn", { write: (line: string) => lines.push(line) });
    loadServerKey(testConfig({ MAILWARD_DATA_DIR: tempDir(), MAILWARD_SECRET_KEY: "" }), logger, true);
    expect(lines.join("")).toMatch(/MAILWARD_SECRET_KEY is not set.*same key on each/);
    lines.length = 0;
    loadServerKey(testConfig({ MAILWARD_SECRET_KEY: randomBytes(32).toString("hex") }), logger, true);
    expect(lines).toEqual([]);
  });
});

describe("starting with a database that has TOTP secrets", () => {
  const KEY = randomBytes(32).toString("base64");
  let target: DatabaseTarget;
  let drop: () => Promise<void> = async () => undefined;
  let clock = new Date("2026-03-02T09:00:00Z");
  const start = (key: string, previous?: string): Promise<Mailward> =>
    startMailward(
      testConfig({
        MAILWARD_SECRET_KEY: key,
        ...(previous ? { MAILWARD_SECRET_KEY_PREVIOUS: previous } : {}),
        MAILWARD_DATA_DIR: tempDir(),
        MAILWARD_ADMIN_EMAIL: "admin@example.com",
        MAILWARD_ADMIN_PASSWORD: "correct horse battery",
      }),
      {
        database: target,
        adminSocket: false,
        now: () => clock,
      },
    );
  afterAll(async () => {
    await drop();
  });

  it("refuses another key than the database's, with a message naming the setting, and starts with the same", async () => {
    ({ target, drop } = await freshDatabaseTarget());
    const first = await start(KEY);
    await first.stop();
    await expect(start(randomBytes(32).toString("base64"))).rejects.toThrow(
      /The server key from MAILWARD_SECRET_KEY is not the key this database was set up with: set MAILWARD_SECRET_KEY/,
    );
    const again = await start(KEY);
    await again.stop();
  });

  it("encrypts a plain-text secret an older version left, once, audited, and it still signs in", async () => {
    const PASSWORD = "a long enough passphrase";
    const SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    const before = await start(KEY);
    const db = before.services.db;
    const user = await buildUser(db, { tenantId: await defaultTenantId(db), password: PASSWORD });
    await db
      .updateTable("users")
      .set({ totp_enabled: true, totp_secret: SECRET })
      .where("id", "=", user.id)
      .execute();
    await before.stop();

    const after = await start(KEY);
    try {
      const row = await after.services.db
        .selectFrom("users")
        .select("totp_secret")
        .where("id", "=", user.id)
        .executeTakeFirstOrThrow();
      expect(row.totp_secret).toMatch(/^v1:/);
      expect(row.totp_secret).not.toContain(SECRET);
      const audited = await after.services.db
        .selectFrom("audit_events")
        .select("details")
        .where("action", "=", "mfa.totp_secrets_encrypted")
        .execute();
      expect(audited.map((event) => event.details)).toEqual([{ users: 1 }]);
      const baseUrl = `http://127.0.0.1:${after.httpPort}`;
      const signIn = await new ApiClient(baseUrl).login(user.email, PASSWORD, codeAt(SECRET, clock));
      expect(signIn.status).toBe(200);
    } finally {
      await after.stop();
    }
    // Idempotent: a further start leaves the sealed row (and the audit log) as they are.
    clock = new Date(clock.getTime() + 60_000);
    const third = await start(KEY);
    try {
      const events = await third.services.db
        .selectFrom("audit_events")
        .select("seq")
        .where("action", "=", "mfa.totp_secrets_encrypted")
        .execute();
      expect(events).toHaveLength(1);
    } finally {
      await third.stop();
    }
  });

  it("rotates to a new key given the previous one: secrets re-encrypted, audited, and the old key refused after", async () => {
    const PASSWORD = "a long enough passphrase";
    const SECRET = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU";
    const NEW_KEY = randomBytes(32).toString("hex");
    const before = await start(KEY);
    const db = before.services.db;
    const user = await buildUser(db, { tenantId: await defaultTenantId(db), password: PASSWORD });
    await db
      .updateTable("users")
      .set({ totp_enabled: true, totp_secret: sealTotpSecret(Buffer.from(KEY, "base64"), user.id, SECRET) })
      .where("id", "=", user.id)
      .execute();
    // This one, and the one the test before sealed at start.
    const sealed = await db.selectFrom("users").select("id").where("totp_secret", "is not", null).execute();
    expect(sealed).toHaveLength(2);
    await before.stop();

    // A previous key that is not the database's rotates nothing, and the new key is refused as before.
    await expect(start(NEW_KEY, randomBytes(32).toString("hex"))).rejects.toThrow(
      /MAILWARD_SECRET_KEY_PREVIOUS/,
    );
    const rotated = await start(NEW_KEY, KEY);
    try {
      const row = await rotated.services.db
        .selectFrom("users")
        .select("totp_secret")
        .where("id", "=", user.id)
        .executeTakeFirstOrThrow();
      expect(openTotpSecret(Buffer.from(NEW_KEY, "hex"), user.id, row.totp_secret ?? "")).toBe(SECRET);
      expect(openTotpSecret(Buffer.from(KEY, "base64"), user.id, row.totp_secret ?? "")).toBeNull();
      const baseUrl = `http://127.0.0.1:${rotated.httpPort}`;
      expect((await new ApiClient(baseUrl).login(user.email, PASSWORD, codeAt(SECRET, clock))).status).toBe(
        200,
      );
    } finally {
      await rotated.stop();
    }
    await expect(start(KEY)).rejects.toThrow(/not the key this database was set up with/);
    // Left in place for a further start, the previous key changes nothing.
    clock = new Date(clock.getTime() + 60_000);
    const again = await start(NEW_KEY, KEY);
    try {
      const audited = await again.services.db
        .selectFrom("audit_events")
        .select("details")
        .where("action", "=", "server_key.rotated")
        .execute();
      expect(audited.map((event) => event.details)).toEqual([{ totpSecretsReEncrypted: 2 }]);
    } finally {
      await again.stop();
    }
  });
});
