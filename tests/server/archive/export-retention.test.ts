import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import yauzl from "yauzl";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMailwardApi } from "../../../addin/api/endpoints";
import { createHttpClient } from "../../../addin/api/http";
import { readMbox } from "../../../server/archive/mbox";
import { startTestServer, type TestServer } from "../../support/server";
import { tempDir } from "../../support/temp";
import { defaultTenant, fileFor, mimeMessage, signedIn, uniqueWord } from "./helpers";
import { readCorpus } from "./corpus";
import { buildUser } from "../../factories";
import { prepareExport } from "../../../server/commands/archive/export";
import { ApiError } from "../../../server/http/errors";

let server: TestServer;
let tenantId: string;
const db = () => server.mailward.services.db;
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  server = await startTestServer({
    MAILWARD_ADMIN_TOTP: "optional",
    MAILWARD_LOG_LEVEL: process.env.MW_DEBUG ? "error" : "silent",
  });
  tenantId = await defaultTenant(db());
});
afterAll(async () => {
  await server?.stop();
});

async function post(
  client: { cookie(name: string): string | undefined; csrfToken: string | null },
  pathname: string,
  body: unknown,
) {
  const res = await fetch(`${server.baseUrl}${pathname}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      cookie: `mw_session=${client.cookie("mw_session") ?? ""}`,
      "x-csrf-token": client.csrfToken ?? "",
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

function unzip(zip: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, file) => {
      if (err || !file) return reject(err ?? new Error("no zip"));
      const entries = new Map<string, Buffer>();
      file.on("entry", (entry: yauzl.Entry) => {
        file.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error("no stream"));
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("end", () => {
            entries.set(entry.fileName, Buffer.concat(chunks));
            file.readEntry();
          });
        });
      });
      file.on("end", () => resolve(entries));
      file.readEntry();
    });
  });
}

describe("POST /api/archive/export", () => {
  it("is what the add-in's own client downloads: the streamed file, its name and its count", async () => {
    const admin = await signedIn(db(), server.baseUrl, ["tenant_admin"]);
    const word = uniqueWord();
    const raw = mimeMessage({ to: admin.email, subject: "for the export", text: `quarterly ${word}` });
    await fileFor(db(), tenantId, raw, [admin]);
    const api = createMailwardApi(
      createHttpClient({
        baseUrl: server.baseUrl,
        auth: {
          mode: "cookie",
          headers: async () => ({
            cookie: `mw_session=${admin.client.cookie("mw_session") ?? ""}`,
            "x-csrf-token": admin.client.csrfToken ?? "",
          }),
        },
      }),
    );
    const file = await api.archive.export({ q: word, format: "zip" });
    expect(file.count).toBe(1);
    expect(file.filename).toMatch(/^mailward-export-\d{4}-\d{2}-\d{2}\.zip$/);
    const entries = await unzip(Buffer.from(await file.blob.arrayBuffer()));
    expect([...entries.values()].map(sha)).toContain(sha(raw));
    const refused = await api.archive.export({ q: "from:", format: "zip" }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 400 });
  });

  it("streams a zip of the matching .eml files with a SHA-256 manifest, and an mboxrd file; audited", async () => {
    const admin = await signedIn(db(), server.baseUrl, ["tenant_admin"]);
    const other = await signedIn(db(), server.baseUrl);
    const word = uniqueWord();
    const corpus = await readCorpus("spamassassin", "ham", 1000, 3);
    // Real mail plus one with a body line starting "From " (mboxrd must escape it).
    const raws = [
      ...corpus.map((m) => m.raw),
      mimeMessage({ to: admin.email, subject: "escape", text: `>From the desk\r\nFrom here on ${word}` }),
    ];
    const ids: string[] = [];
    for (const raw of raws) ids.push((await fileFor(db(), tenantId, raw, [admin])).id);
    const hidden = await fileFor(
      db(),
      tenantId,
      mimeMessage({ to: other.email, subject: "not yours", text: word }),
      [other],
    );

    const zip = await post(admin.client, "/api/archive/export", { ids, format: "zip" });
    expect(zip.status).toBe(200);
    expect(zip.headers.get("content-type")).toBe("application/zip");
    expect(zip.headers.get("x-mailward-export-count")).toBe("4");
    const entries = await unzip(zip.body);
    const manifest = (entries.get("manifest.sha256")?.toString() ?? "").trim().split("\n");
    expect(manifest).toHaveLength(4);
    for (const line of manifest) {
      const [hash, name] = line.split("  ");
      const content = entries.get(name ?? "");
      expect(content).toBeDefined();
      expect(sha(content ?? Buffer.alloc(0))).toBe(hash);
    }
    expect(
      [...entries.keys()]
        .filter((n) => n.endsWith(".eml"))
        .map((n) => sha(entries.get(n) ?? Buffer.alloc(0)))
        .sort(),
    ).toEqual(raws.map(sha).sort());

    const mbox = await post(admin.client, "/api/archive/export", { q: word, format: "mbox" });
    expect(mbox.status).toBe(200);
    expect(mbox.body.toString("latin1")).toContain("\n>>From the desk");
    expect(mbox.body.toString("latin1")).toContain("\n>From here on");
    const file = path.join(tempDir("mw-export-"), "export.mbox");
    fs.writeFileSync(file, mbox.body);
    const messages: Buffer[] = [];
    for await (const m of readMbox(file)) messages.push(m.raw);
    expect(messages).toHaveLength(2); // the one message of the query (never the other agent's), then the manifest
    const exported = messages[0] ?? Buffer.alloc(0);
    // The message reads back byte for byte: the blank line after it is the mbox format's.
    expect(sha(exported)).toBe(sha(raws[3] ?? Buffer.alloc(0)));
    expect(messages[1]?.toString()).toContain(`${sha(raws[3] ?? Buffer.alloc(0))}  `);
    expect(messages[1]?.toString()).not.toContain(hidden.id);

    const audit = await db()
      .selectFrom("audit_events")
      .select(["action", "details"])
      .where("actor_id", "=", admin.id)
      .where("action", "=", "archive.exported")
      .orderBy("seq")
      .execute();
    expect(audit.map((a) => (a.details as { count: number; format: string }).count)).toEqual([4, 1]);
  });

  it("is refused to agents (403) and hides messages outside the caller's scope (404)", async () => {
    const agent = await signedIn(db(), server.baseUrl);
    const mine = await fileFor(db(), tenantId, mimeMessage({ to: agent.email, subject: "mine", text: "x" }), [
      agent,
    ]);
    expect((await post(agent.client, "/api/archive/export", { ids: [mine.id] })).status).toBe(403);
    const admin = await signedIn(db(), server.baseUrl, ["tenant_admin"]);
    expect((await post(admin.client, "/api/archive/export", { ids: [mine.id] })).status).toBe(404);
    expect((await post(admin.client, "/api/archive/export", { q: "x", scope: "all" })).status).toBe(403);
    expect((await post(admin.client, "/api/archive/export", { q: "(x" })).status).toBe(400);
  });
});

describe("an export bigger than one export holds", () => {
  it("is refused with 422 export_too_large and a way to split it, never cut short; the limit itself is exported whole", async () => {
    const owner = await buildUser(db(), { tenantId, roles: ["tenant_admin"] });
    const word = uniqueWord();
    for (let i = 0; i < 3; i++)
      await fileFor(db(), tenantId, mimeMessage({ to: owner.email, subject: `${word} ${i}`, text: word }), [
        owner,
      ]);
    const body = { q: word, format: "zip" as const, scope: "own" as const };
    const refused = await prepareExport(server.mailward.services, owner.actor, null, body, 2).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({
      id: "export_too_large",
      status: 422,
      message: expect.stringMatching(/after:/),
    });
    const whole = await prepareExport(server.mailward.services, owner.actor, null, body, 3);
    expect(whole.entries).toHaveLength(3);
  });
});

describe("retention and legal holds", () => {
  it("purges expired mail by direction and age after a dry run, never a message under legal hold; audited", async () => {
    const admin = await signedIn(db(), server.baseUrl, ["tenant_admin"]);
    const custodian = await signedIn(db(), server.baseUrl);
    const agent = await signedIn(db(), server.baseUrl);
    const word = uniqueWord();
    const old = new Date(Date.now() - 400 * 86400_000);
    const expired = await fileFor(
      db(),
      tenantId,
      mimeMessage({ to: agent.email, subject: "old and unheld", text: "bye" }),
      [agent],
      old,
    );
    const byQuery = await fileFor(
      db(),
      tenantId,
      mimeMessage({ to: agent.email, subject: `litigation ${word}`, text: "keep" }),
      [agent],
      old,
    );
    const byCustodian = await fileFor(
      db(),
      tenantId,
      mimeMessage({ to: custodian.email, subject: "custodian mail", text: "keep" }),
      [custodian],
      old,
    );
    const recent = await fileFor(
      db(),
      tenantId,
      mimeMessage({ to: agent.email, subject: "recent", text: "stay" }),
      [agent],
    );
    const outbound = await fileFor(
      db(),
      tenantId,
      mimeMessage({ to: agent.email, subject: "old outbound", text: "stay" }),
      [agent],
      old,
    );
    await db().updateTable("messages").set({ direction: "outbound" }).where("id", "=", outbound.id).execute();

    const security = await signedIn(db(), server.baseUrl, ["security_admin"]);
    expect(
      (
        await security.client.request("POST", "/api/admin/legal-holds", {
          kind: "query",
          name: "x",
          query: word,
        })
      ).status,
    ).toBe(403);
    const hold1 = await admin.client.request("POST", "/api/admin/legal-holds", {
      kind: "query",
      name: "Litigation 2026-17",
      query: `subject:${word}`,
    });
    expect(hold1.status).toBe(201);
    const hold2 = await admin.client.request("POST", "/api/admin/legal-holds", {
      kind: "custodian",
      name: "Custodian",
      custodianUserId: custodian.id,
    });
    expect(hold2.status).toBe(201);
    expect(
      (
        await admin.client.request("POST", "/api/admin/legal-holds", {
          kind: "query",
          name: "bad",
          query: "(oops",
        })
      ).status,
    ).toBe(400);

    expect(
      (
        await admin.client.request("PUT", "/api/admin/retention", {
          policies: [{ direction: "inbound", keepDays: 365 }],
        })
      ).status,
    ).toBe(200);
    const dry = await admin.client.request("POST", "/api/admin/retention/purge", { dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.json).toMatchObject({ dryRun: true, purged: 0, keptByLegalHold: 2 });
    const alive = async (id: string) =>
      (await db().selectFrom("messages").select("id").where("id", "=", id).executeTakeFirst()) !== undefined;
    expect(await alive(expired.id)).toBe(true);

    const run = await admin.client.request("POST", "/api/admin/retention/purge", { dryRun: false });
    expect(run.json).toMatchObject({ dryRun: false, keptByLegalHold: 2 });
    expect(Number(run.json.purged)).toBe(Number(dry.json.expired) - 2 - Number(dry.json.keptInUse));
    expect(await alive(expired.id)).toBe(false);
    expect(
      await db()
        .selectFrom("message_blobs")
        .select("sha256")
        .where(
          "sha256",
          "=",
          (
            await db()
              .selectFrom("messages")
              .select("sha256")
              .where("id", "=", byQuery.id)
              .executeTakeFirstOrThrow()
          ).sha256,
        )
        .executeTakeFirst(),
    ).toBeDefined();
    for (const id of [byQuery.id, byCustodian.id, recent.id, outbound.id]) expect(await alive(id)).toBe(true);
    expect((await agent.client.request("GET", `/api/archive/${expired.id}`)).status).toBe(404);

    // Lifting a hold (tenant admin, with a reason) lets the next purge take what it protected.
    expect(
      (
        await security.client.request("POST", `/api/admin/legal-holds/${String(hold2.json.id)}/lift`, {
          reason: "case closed",
        })
      ).status,
    ).toBe(403);
    const lifted = await admin.client.request(
      "POST",
      `/api/admin/legal-holds/${String(hold2.json.id)}/lift`,
      { reason: "case closed" },
    );
    expect(lifted.status).toBe(200);
    expect(lifted.json.liftedAt).not.toBeNull();
    expect(
      (
        await admin.client.request("POST", `/api/admin/legal-holds/${String(hold2.json.id)}/lift`, {
          reason: "again",
        })
      ).status,
    ).toBe(409);
    const after = await admin.client.request("POST", "/api/admin/retention/purge", { dryRun: false });
    expect(after.json).toMatchObject({ keptByLegalHold: 1 });
    expect(await alive(byCustodian.id)).toBe(false);
    expect(await alive(byQuery.id)).toBe(true);

    const actions = (
      await db()
        .selectFrom("audit_events")
        .select("action")
        .where("actor_id", "=", admin.id)
        .where("action", "like", "archive.%")
        .orderBy("seq")
        .execute()
    ).map((a) => a.action);
    expect(actions).toEqual([
      "archive.legal_hold_placed",
      "archive.legal_hold_placed",
      "archive.retention_changed",
      "archive.purge_dry_run",
      "archive.purged",
      "archive.legal_hold_lifted",
      "archive.purged",
    ]);
  });

  it("keeps everything forever without a policy, and the scheduled job purges as the system", async () => {
    const { startRetentionJob } = await import("../../../server/jobs/retention");
    const agent = await signedIn(db(), server.baseUrl);
    const ancient = await fileFor(
      db(),
      tenantId,
      mimeMessage({ to: agent.email, subject: "ancient", text: "x" }),
      [agent],
      new Date("2001-01-01T00:00:00Z"),
    );
    await db().deleteFrom("archive_retention_policies").execute();
    const job = startRetentionJob(server.mailward.services, 3_600_000);
    expect(await job.runOnce()).toBe(0);
    expect(
      await db().selectFrom("messages").select("id").where("id", "=", ancient.id).executeTakeFirst(),
    ).toBeDefined();
    await db()
      .insertInto("archive_retention_policies")
      .values({ tenant_id: tenantId, direction: "any", keep_days: 3650 })
      .execute();
    expect(await job.runOnce()).toBeGreaterThanOrEqual(1);
    await job.stop();
    expect(
      await db().selectFrom("messages").select("id").where("id", "=", ancient.id).executeTakeFirst(),
    ).toBeUndefined();
    const event = await db()
      .selectFrom("audit_events")
      .select(["actor_label", "details"])
      .where("action", "=", "archive.purged")
      .orderBy("seq", "desc")
      .executeTakeFirstOrThrow();
    expect(event.actor_label).toBe("system:retention");
  });
});
