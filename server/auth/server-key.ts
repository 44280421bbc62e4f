import fs from "node:fs";
import path from "node:path";
import { createHmac, hkdfSync, randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { ConfigError, type Config } from "../config";
import type { Database } from "../db/schema";
import type { Logger } from "../logger";

/** The server key that encrypts secrets at rest, and where it came from (named in messages; never the key). */
export interface ServerKey {
  key: Buffer;
  source: string;
  /** MAILWARD_SECRET_KEY_PREVIOUS: the key this one replaces, while a rotation is under way (key-rotation.ts). */
  previous?: Buffer;
}

/** A server key that cannot be read or is not the database's: the process must not start (main.ts exits 2). */
export class ServerKeyError extends ConfigError {}

/** The file the key is kept in when MAILWARD_SECRET_KEY is unset, in MAILWARD_DATA_DIR. */
export const SECRET_KEY_FILE = "secret.key";

const KEY_BYTES = 32;
/** What the fingerprint stored in key_checks is computed over (an HMAC with the key: reveals nothing of it). */
const CHECK_MESSAGE = "mailward key check";

/** Decodes 32 bytes written as hex or base64 (or base64url), so settings and key files take either; else null. */
export function decodeServerKey(text: string): Buffer | null {
  const value = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(value)) return Buffer.from(value, "hex");
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) {
    const bytes = Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (bytes.length === KEY_BYTES) return bytes;
  }
  return null;
}

function readKeyFile(file: string): Buffer {
  const key = decodeServerKey(fs.readFileSync(file, "utf8"));
  if (!key) throw new ServerKeyError(`The key file ${file} does not hold 32 bytes in base64 or hex`);
  return key;
}

/** Writes a new random key where none is, durably and atomically (a racing process reads the winner's key). */
function createKeyFile(file: string): Buffer {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const key = randomBytes(KEY_BYTES);
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  const fd = fs.openSync(temporary, "wx", 0o600);
  try {
    fs.writeSync(fd, `${key.toString("base64")}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    // link() refuses an existing name: of two first starts, one key wins and both use it.
    fs.linkSync(temporary, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return readKeyFile(file);
    throw err;
  } finally {
    fs.rmSync(temporary, { force: true });
  }
  return key;
}

/**
 * The server key: MAILWARD_SECRET_KEY (the key, or a file holding it), else MAILWARD_DATA_DIR/secret.key, made at
 * first start. `sharedDatabase`: on a PostgreSQL server other instances may run, which must all use one key.
 */
export function loadServerKey(config: Config, logger: Logger, sharedDatabase: boolean): ServerKey {
  const previous = config.MAILWARD_SECRET_KEY_PREVIOUS
    ? { previous: keyOfSetting("MAILWARD_SECRET_KEY_PREVIOUS", config.MAILWARD_SECRET_KEY_PREVIOUS).key }
    : {};
  const setting = config.MAILWARD_SECRET_KEY;
  if (setting) return { ...keyOfSetting("MAILWARD_SECRET_KEY", setting), ...previous };
  const file = path.join(config.dataDir, SECRET_KEY_FILE);
  if (sharedDatabase) {
    logger.warn(
      { file },
      "MAILWARD_SECRET_KEY is not set, so the key file in the data folder is used: every instance on this " +
        "database must share one key, so set MAILWARD_SECRET_KEY to the same key on each",
    );
  }
  let key: Buffer;
  try {
    key = readKeyFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    key = createKeyFile(file);
    logger.info({ file }, "made a new server key; back it up apart from the database");
  }
  return { key, source: file, ...previous };
}

/** A key setting's key: the key itself in base64 or hex, or the path of a file holding it. */
function keyOfSetting(name: string, setting: string): { key: Buffer; source: string } {
  const inline = decodeServerKey(setting);
  if (inline) return { key: inline, source: name };
  if (!fs.existsSync(setting)) {
    // The value is not printed: it may be a mistyped key.
    throw new ServerKeyError(
      `Invalid setting ${name}=(hidden): expected 32 bytes in base64 or hex, or the path of a file holding them`,
    );
  }
  return { key: readKeyFile(setting), source: `${name} (${setting})` };
}

/** The fingerprint the database keeps of the key, to tell at start that the key is the one it was used with. */
export function serverKeyFingerprint(key: Buffer): string {
  return createHmac("sha256", key).update(CHECK_MESSAGE).digest("base64url");
}

/**
 * Refuses a key that is not the one the database's secrets were encrypted with, so a wrong key stops the start
 * rather than every sign-in with TOTP. The first start records the key's fingerprint.
 */
export async function checkServerKey(db: Kysely<Database>, serverKey: ServerKey): Promise<void> {
  const fingerprint = serverKeyFingerprint(serverKey.key);
  await db
    .insertInto("key_checks")
    .values({ name: "secret_key", fingerprint })
    .onConflict((oc) => oc.column("name").doNothing())
    .execute();
  const stored = await db
    .selectFrom("key_checks")
    .select("fingerprint")
    .where("name", "=", "secret_key")
    .executeTakeFirstOrThrow();
  if (stored.fingerprint !== fingerprint) {
    throw new ServerKeyError(
      `The server key from ${serverKey.source} is not the key this database was set up with: set ` +
        "MAILWARD_SECRET_KEY to the original key (or restore MAILWARD_DATA_DIR/secret.key), or, to move to this " +
        "key, set MAILWARD_SECRET_KEY_PREVIOUS to the original for one start. Without it the TOTP secrets stored " +
        "in the database cannot be read.",
    );
  }
}

/**
 * A key for one use of the server key (`purpose`: TOTP secrets, digest links, preview tickets), so its uses never
 * share a key; `stored`, a secret the database keeps (a tenant's signing secret), binds it to that too. The stored
 * secret alone (a leaked backup, a read-only SQL injection) then signs nothing, so it forges no digest link (which
 * releases mail) and no preview ticket (which shows it).
 */
export function derivedKey(
  serverKey: Buffer,
  purpose: string,
  stored: Uint8Array = new Uint8Array(0),
): Buffer {
  return Buffer.from(hkdfSync("sha256", serverKey, stored, `mailward ${purpose} v1`, 32));
}
