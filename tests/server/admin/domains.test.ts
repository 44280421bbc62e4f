import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organisationDomain, organisationDomainList } from "../../../shared/schemas/domains";
import { startTestServer, type TestServer } from "../../support/server";
import type { ApiClient } from "../../support/http";
import { fakeDns, rawMessage, smtpSend } from "../mail/gateway/helpers";
import type { FakeTxtRecord } from "../mail/scan/support/fake-dns";
import { administrativeResolver, dnsError, type DnsResolver } from "../../../server/mail/scan/dns";
import { signedInPerson } from "../../support/sign-in";
import { buildAdminWorld, type AdminWorld } from "./admin-world";
import { pipelineFor } from "../../../server/mail/pipeline/index";
import { runCliCommand } from "../../../server/cli/commands";
import { DOMAIN_PROOF_WATCH_DAYS, startDomainProofJob } from "../../../server/jobs/domain-proofs";

// The organisation's mail domains, managed by a tenant admin from the portal: the gateway takes mail for them.
let server: TestServer;
let world: AdminWorld;
let tenantAdmin: ApiClient;
const FOREIGN_PASSWORD = "Foreign-admin-passw0rd!";
/** The public DNS the organisations publish their proofs in (faked: the one outside service these tests may fake). */
const zone: Record<string, FakeTxtRecord[]> = {
  "nice.test": ["v=spf1 ip4:127.0.0.1 -all"],
};
const publicDns = fakeDns(zone);

const db = () => server.mailward.services.db;
/** The domains the gateway's verdicts compare senders with (lookalikes, own-domain forgeries), as it has them cached. */
const scannedDomains = async () =>
  (await pipelineFor(server.mailward.services).directory.profile(world.tenantId)).context.domains;

async function domains() {
  const res = await tenantAdmin.request("GET", "/api/admin/domains");
  expect(res.status).toBe(200);
  return organisationDomainList.parse(res.json).items;
}

const inbound = (to: string) =>
  smtpSend(
    server.smtpPort,
    { from: "customer@nice.test", to: [to] },
    rawMessage({ from: "customer@nice.test", to }).raw,
  );

async function auditedDomains(action: string): Promise<string[]> {
  const rows = await db()
    .selectFrom("audit_events")
    .select("target_id")
    .where("tenant_id", "=", world.tenantId)
    .where("action", "=", action)
    .orderBy("seq")
    .execute();
  return rows.map((row) => row.target_id ?? "");
}

/** Runs `work` while the server's administrative DNS (Services.dns) is `resolver`, then puts the usual one back. */
async function withDns<T>(resolver: DnsResolver, work: () => Promise<T>): Promise<T> {
  const usual = server.mailward.services.dns;
  server.mailward.services.dns = resolver;
  try {
    return await work();
  } finally {
    server.mailward.services.dns = usual;
  }
}

/** Adds a domain from the portal and proves it: publishes the TXT record it asks for, then has it checked. */
async function addAndProve(domain: string) {
  const added = await tenantAdmin.request("POST", "/api/admin/domains", { domain });
  expect(added.status).toBe(200);
  const { verificationRecord } = organisationDomain.parse(added.json);
  if (!verificationRecord) throw new Error(`${domain} was verified without a proof`);
  zone[verificationRecord.name] = [...(zone[verificationRecord.name] ?? []), verificationRecord.value];
  const verified = await tenantAdmin.request("POST", `/api/admin/domains/${domain}/verify`);
  expect(verified.status).toBe(200);
  return organisationDomain.parse(verified.json);
}

beforeAll(async () => {
  server = await startTestServer({}, { dnsResolver: publicDns });
  world = await buildAdminWorld(db(), server.baseUrl);
  tenantAdmin = (await world.login(["tenant_admin"])).client;
  await db()
    .insertInto("tenant_domains")
    .values({ tenant_id: world.foreignTenantId, domain: "foreign.example", verified_at: new Date() })
    .execute();
});

afterAll(async () => {
  await server?.stop();
});

describe("the organisation's mail domains", () => {
  it("adds a domain as pending, normalised and audited once: it takes no mail until its TXT record proves it, then at once", async () => {
    expect(await inbound("someone@fresh.example")).toMatchObject({ ok: false, code: 554 });
    const added = await tenantAdmin.request("POST", "/api/admin/domains", { domain: " Fresh.Example. " });
    expect(added.status).toBe(200);
    const pending = organisationDomain.parse(added.json);
    expect(pending).toMatchObject({
      domain: "fresh.example",
      status: "pending",
      verifiedAt: null,
      verificationRecord: { type: "TXT", name: "fresh.example" },
      users: 0,
      aliases: 0,
      groups: 0,
    });
    const proof = pending.verificationRecord?.value ?? "";
    expect(proof).toMatch(/^mailward-verification=[0-9a-f]{32}$/);
    // Again: no change (the same proof), no second audit event.
    const again = await tenantAdmin.request("POST", "/api/admin/domains", { domain: "fresh.example" });
    expect(organisationDomain.parse(again.json).verificationRecord?.value).toBe(proof);
    expect(await auditedDomains("tenant.domain_added")).toEqual(["fresh.example"]);
    const idn = await tenantAdmin.request("POST", "/api/admin/domains", { domain: "bücher.example" });
    expect(idn.json).toMatchObject({ domain: "xn--bcher-kva.example", status: "pending" });
    // A pending domain takes no mail, so it can go whoever is in it.
    await tenantAdmin.request("POST", "/api/admin/users", { email: "reader@xn--bcher-kva.example" });
    expect((await domains()).find((d) => d.domain === "xn--bcher-kva.example")?.users).toBe(1);
    expect((await tenantAdmin.request("DELETE", "/api/admin/domains/bücher.example")).status).toBe(204);

    // Pending: the gateway, the verdicts and the alias rules treat it as someone else's domain.
    const person = await tenantAdmin.request("POST", "/api/admin/users", { email: "someone@fresh.example" });
    expect(person.status).toBe(201);
    expect(await inbound("someone@fresh.example")).toMatchObject({ ok: false, code: 554 });
    expect(await scannedDomains()).not.toContain("fresh.example");
    const tina = await world.user(["agent"]);
    const alias = await tenantAdmin.request("POST", `/api/admin/users/${tina.id}/addresses`, {
      address: "tina@fresh.example",
    });
    expect(alias.status).toBe(400);

    // No record yet, then someone else's record: refused with what to publish, nothing changes.
    const unproved = async (detail: string) => {
      const res = await tenantAdmin.request("POST", "/api/admin/domains/fresh.example/verify");
      expect(res.status).toBe(422);
      expect(res.json).toMatchObject({ error: "domain_not_verified" });
      const { message } = res.json as { message: string };
      expect(message).toContain(`"${proof}"`);
      expect(message).toContain(detail);
    };
    await unproved("it has no TXT records");
    zone["fresh.example"] = ["v=spf1 -all", "mailward-verification=0123456789abcdef0123456789abcdef"];
    await unproved("it has 2 other TXT records");
    expect((await domains()).find((d) => d.domain === "fresh.example")?.status).toBe("pending");
    expect(await auditedDomains("tenant.domain_verified")).toEqual([]);

    // Published (a TXT record may come in several strings): verified, audited, and the gateway takes its mail at once.
    zone["fresh.example"] = ["v=spf1 -all", proof];
    publicDns.lookups.length = 0;
    const verified = await tenantAdmin.request("POST", "/api/admin/domains/Fresh.Example/verify");
    expect(verified.status).toBe(200);
    expect(publicDns.lookups).toEqual(["TXT fresh.example"]);
    expect(organisationDomain.parse(verified.json)).toMatchObject({
      domain: "fresh.example",
      status: "verified",
      verificationRecord: null,
      users: 1,
    });
    expect(await auditedDomains("tenant.domain_verified")).toEqual(["fresh.example"]);
    expect(await scannedDomains()).toContain("fresh.example");
    expect(await inbound("someone@fresh.example")).toMatchObject({ ok: true, code: 250 });
    expect(await inbound("nobody@fresh.example")).toMatchObject({ ok: false, code: 550 });
    // Checked again: no change, no DNS lookup, no second event.
    publicDns.lookups.length = 0;
    expect((await tenantAdmin.request("POST", "/api/admin/domains/fresh.example/verify")).status).toBe(200);
    expect(publicDns.lookups).toEqual([]);
    expect(await auditedDomains("tenant.domain_verified")).toEqual(["fresh.example"]);
    expect((await domains()).map((d) => d.domain)).toEqual(
      expect.arrayContaining(["example.com", "fresh.example"]),
    );
  });

  it("accepts a proof split into several strings, and says so when DNS cannot be asked", async () => {
    const added = organisationDomain.parse(
      (await tenantAdmin.request("POST", "/api/admin/domains", { domain: "split.example" })).json,
    );
    const proof = added.verificationRecord?.value ?? "";
    // One TXT record of two strings (RFC 7208 §3.3), as a DNS host may split a value, beside another record.
    zone["split.example"] = ["v=spf1 -all", [proof.slice(0, 20), proof.slice(20)]];
    // The DNS server fails (the record may well be there): try again later.
    const serverFailure: DnsResolver = async (name) => {
      throw dnsError("ESERVFAIL", name);
    };
    const failed = await withDns(serverFailure, () =>
      tenantAdmin.request("POST", "/api/admin/domains/split.example/verify"),
    );
    expect(failed.status).toBe(503);
    expect(failed.json).toMatchObject({ error: "service_unavailable" });
    expect((failed.json as { message: string }).message).toContain("ESERVFAIL");
    // A server that does not ask DNS at all says so, and how the operator adds the domain instead.
    const offline = await withDns(administrativeResolver("offline"), () =>
      tenantAdmin.request("POST", "/api/admin/domains/split.example/verify"),
    );
    expect(offline.status).toBe(503);
    expect((offline.json as { message: string }).message).toContain(
      "MAILWARD_DNS=offline), so it cannot check split.example's TXT record. The server's operator can add the domain with \"npm run mailward -- domain add split.example\"",
    );
    expect((await domains()).find((d) => d.domain === "split.example")?.status).toBe("pending");
    const verified = await tenantAdmin.request("POST", "/api/admin/domains/split.example/verify");
    expect(verified.json).toMatchObject({ status: "verified" });
    expect((await tenantAdmin.request("POST", "/api/admin/domains/absent.example/verify")).status).toBe(404);
  });

  it("does not verify a domain by a proof of its earlier claim, removed and added again while DNS answered", async () => {
    const first = organisationDomain.parse(
      (await tenantAdmin.request("POST", "/api/admin/domains", { domain: "again.example" })).json,
    );
    const oldProof = first.verificationRecord?.value ?? "";
    const meanwhileAddedAgain: DnsResolver = async (name, rrtype) => {
      if (name !== "again.example") return publicDns(name, rrtype);
      // Meanwhile the domain is removed and added again, with a new token.
      expect((await tenantAdmin.request("DELETE", "/api/admin/domains/again.example")).status).toBe(204);
      expect(
        (await tenantAdmin.request("POST", "/api/admin/domains", { domain: "again.example" })).status,
      ).toBe(200);
      return [[oldProof]];
    };
    const res = await withDns(meanwhileAddedAgain, () =>
      tenantAdmin.request("POST", "/api/admin/domains/again.example/verify"),
    );
    expect(res.status).toBe(422);
    expect((res.json as { message: string }).message).toContain("was added again while it was being checked");
    const now = (await domains()).find((d) => d.domain === "again.example");
    expect(now?.status).toBe("pending");
    expect(now?.verificationRecord?.value).not.toBe(oldProof);
  });

  it("are looked up by themselves for a week after they were added, so publishing the record is enough", async () => {
    const add = async (domain: string) =>
      organisationDomain.parse((await tenantAdmin.request("POST", "/api/admin/domains", { domain })).json);
    const published = await add("auto.example");
    await add("unpublished.example");
    const old = await add("old-claim.example");
    zone["auto.example"] = [published.verificationRecord?.value ?? ""];
    zone["old-claim.example"] = [old.verificationRecord?.value ?? ""];
    await db()
      .updateTable("tenant_domains")
      .set({ created_at: new Date(Date.now() - (DOMAIN_PROOF_WATCH_DAYS + 1) * 24 * 60 * 60 * 1000) })
      .where("domain", "=", "old-claim.example")
      .execute();
    const job = startDomainProofJob(server.mailward.services, 3_600_000);
    publicDns.lookups.length = 0;
    try {
      expect(await job.runOnce()).toBe(1);
    } finally {
      await job.stop();
    }
    // Pending domains other tests left behind are looked up too; the old claim is not.
    expect(publicDns.lookups).toEqual(
      expect.arrayContaining(["TXT auto.example", "TXT unpublished.example"]),
    );
    expect(publicDns.lookups).not.toContain("TXT old-claim.example");
    const statusOf = async (domain: string) => (await domains()).find((d) => d.domain === domain)?.status;
    expect(await statusOf("auto.example")).toBe("verified");
    expect(await statusOf("unpublished.example")).toBe("pending");
    expect(await statusOf("old-claim.example")).toBe("pending");
    const event = await db()
      .selectFrom("audit_events")
      .select(["actor_label", "actor_id"])
      .where("action", "=", "tenant.domain_verified")
      .where("target_id", "=", "auto.example")
      .executeTakeFirstOrThrow();
    expect(event).toEqual({ actor_label: "system:domain-check", actor_id: null });
    expect(await inbound("nobody@auto.example")).toMatchObject({ ok: false, code: 550 });
  });

  it("does not let a pending claim keep a domain from the organisation that proves it, and drops the claim then", async () => {
    const { client: foreign } = await signedInPerson(db(), server.baseUrl, {
      tenantId: world.foreignTenantId,
      roles: ["tenant_admin"],
      password: FOREIGN_PASSWORD,
    });
    const claim = organisationDomain.parse(
      (await foreign.request("POST", "/api/admin/domains", { domain: "contested.example" })).json,
    );
    expect(claim.status).toBe("pending");
    // Our organisation can still add it (its own proof), prove it, and take its mail.
    const ours = await addAndProve("contested.example");
    expect(ours.status).toBe("verified");
    expect(ours.verificationRecord).toBeNull();
    await tenantAdmin.request("POST", "/api/admin/users", { email: "desk@contested.example" });
    expect(await inbound("desk@contested.example")).toMatchObject({ ok: true, code: 250 });
    // The claim that can no longer be proved is gone from the claimant's list, audited in its own log without naming
    // who proved the domain.
    const foreignList = organisationDomainList.parse(
      (await foreign.request("GET", "/api/admin/domains")).json,
    );
    expect(foreignList.items.map((d) => d.domain)).not.toContain("contested.example");
    const dropped = await db()
      .selectFrom("audit_events")
      .select(["actor_label", "details"])
      .where("tenant_id", "=", world.foreignTenantId)
      .where("action", "=", "tenant.domain_removed")
      .where("target_id", "=", "contested.example")
      .execute();
    expect(dropped).toEqual([
      {
        actor_label: "system:domain-proved-elsewhere",
        details: { reason: "proved_by_another_organisation" },
      },
    ]);
    // The claimant's own record does not win it back, and it cannot add it anew.
    zone["contested.example"] = [...(zone["contested.example"] ?? []), claim.verificationRecord?.value ?? ""];
    const late = await foreign.request("POST", "/api/admin/domains/contested.example/verify");
    expect(late.status).toBe(404);
    expect(late.json).toMatchObject({ error: "not_found" });
    const again = await foreign.request("POST", "/api/admin/domains", { domain: "contested.example" });
    expect(again.status).toBe(409);
    expect(again.json).toMatchObject({ error: "already_exists" });
    expect(await inbound("desk@contested.example")).toMatchObject({ ok: true, code: 250 });
  });

  it("drops other organisations' pending claims when the operator gives a domain, new or pending here", async () => {
    const { client: foreign } = await signedInPerson(db(), server.baseUrl, {
      tenantId: world.foreignTenantId,
      roles: ["tenant_admin"],
      password: FOREIGN_PASSWORD,
    });
    // handed.example is new to our organisation; granted.example is pending here as well.
    for (const domain of ["handed.example", "granted.example"])
      expect((await foreign.request("POST", "/api/admin/domains", { domain })).json).toMatchObject({
        status: "pending",
      });
    expect(
      (await tenantAdmin.request("POST", "/api/admin/domains", { domain: "granted.example" })).json,
    ).toMatchObject({ status: "pending" });
    for (const domain of ["handed.example", "granted.example"]) {
      const code = await runCliCommand(
        server.mailward.services,
        ["domain", "add", domain],
        { print: () => undefined },
        ".",
      );
      expect(code).toBe(0);
      const left = await db()
        .selectFrom("tenant_domains")
        .select(["tenant_id", "verified_at"])
        .where("domain", "=", domain)
        .execute();
      expect(left, domain).toHaveLength(1);
      expect(left[0]?.tenant_id).toBe(world.tenantId);
      expect(left[0]?.verified_at).toBeInstanceOf(Date);
    }
  });

  it("refuses what it cannot take with a clear error, and changes nothing", async () => {
    const before = await domains();
    const refused = async (body: unknown, status: number, error: string) => {
      const res = await tenantAdmin.request("POST", "/api/admin/domains", body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.json).toMatchObject({ error });
      return String((res.json as { message: string }).message);
    };
    expect(await refused({ domain: "not a domain" }, 400, "invalid_request")).toContain(
      "not a valid domain name",
    );
    await refused({ domain: "localhost" }, 400, "invalid_request");
    // An address is not a domain; no DNS label is longer than 63 characters.
    await refused({ domain: "192.0.2.1" }, 400, "invalid_request");
    await refused({ domain: `${"a".repeat(64)}.example` }, 400, "invalid_request");
    await refused({}, 400, "invalid_request");
    await refused({ domain: "fine.example", extra: 1 }, 400, "invalid_request");
    expect(await refused({ domain: "FOREIGN.example" }, 409, "already_exists")).toContain("another tenant");
    expect(await domains()).toEqual(before);
  });

  it("lists the people, other addresses and groups that take mail in each domain, and keeps a domain while they do", async () => {
    await addAndProve("support.example");
    const created = await tenantAdmin.request("POST", "/api/admin/users", { email: "desk@support.example" });
    const desk = created.json as { id: string };
    const tina = await world.user(["agent"]);
    const alias = await tenantAdmin.request("POST", `/api/admin/users/${tina.id}/addresses`, {
      address: "tina@support.example",
    });
    expect(alias.status).toBe(200);
    await db()
      .insertInto("group_addresses")
      .values({
        address: "team@support.example",
        tenant_id: world.tenantId,
        group_oid: "0f6a7b8c-0000-4000-8000-000000000001",
        display_name: "Support team",
      })
      .execute();
    expect((await domains()).find((d) => d.domain === "support.example")).toMatchObject({
      users: 1,
      aliases: 1,
      groups: 1,
    });

    const inUse = await tenantAdmin.request("DELETE", "/api/admin/domains/support.example");
    expect(inUse.status).toBe(409);
    expect(inUse.json).toMatchObject({ error: "domain_in_use" });
    expect((inUse.json as { message: string }).message).toContain(
      "support.example still has 1 person, 1 other address, 1 group",
    );
    expect(await inbound("desk@support.example")).toMatchObject({ ok: true });

    // Disabled people do not keep a domain; the alias and the group are taken away.
    expect((await tenantAdmin.request("POST", `/api/admin/users/${desk.id}/disable`)).status).toBe(200);
    expect(
      (await tenantAdmin.request("DELETE", `/api/admin/users/${tina.id}/addresses/tina@support.example`))
        .status,
    ).toBe(200);
    await db().deleteFrom("group_addresses").where("address", "=", "team@support.example").execute();
    expect((await domains()).find((d) => d.domain === "support.example")).toMatchObject({
      users: 0,
      aliases: 0,
      groups: 0,
    });
    // The gateway confirms desk@ (disabled people's mail still comes in) and remembers that for a few seconds.
    expect(await inbound("desk@support.example")).toMatchObject({ ok: true });
    expect((await tenantAdmin.request("DELETE", "/api/admin/domains/Support.Example")).status).toBe(204);
    expect(await auditedDomains("tenant.domain_removed")).toContain("support.example");
    expect((await domains()).map((d) => d.domain)).not.toContain("support.example");
    expect(await scannedDomains()).not.toContain("support.example");
    // The gateway no longer takes its mail, at once.
    expect(await inbound("desk@support.example")).toMatchObject({ ok: false, code: 554 });
    expect((await tenantAdmin.request("DELETE", "/api/admin/domains/support.example")).status).toBe(404);
  });

  it("adds a domain from the command line the same way", async () => {
    const cli = async (...args: string[]) => {
      const lines: string[] = [];
      const code = await runCliCommand(server.mailward.services, args, { print: (l) => lines.push(l) }, ".");
      return { code, lines };
    };
    expect(await cli("domain", "add", "CLI.example")).toEqual({
      code: 0,
      lines: ["Added domain cli.example"],
    });
    // The operator vouches for it: verified at once, no DNS proof asked.
    expect((await domains()).find((d) => d.domain === "cli.example")).toMatchObject({
      status: "verified",
      verificationRecord: null,
    });
    expect(await scannedDomains()).toContain("cli.example");
    expect(await auditedDomains("tenant.domain_added")).toContain("cli.example");
    // A domain pending in the portal, added by the operator: vouched for.
    await tenantAdmin.request("POST", "/api/admin/domains", { domain: "vouched.example" });
    expect(await cli("domain", "add", "vouched.example")).toEqual({
      code: 0,
      lines: ["Added domain vouched.example"],
    });
    expect((await domains()).find((d) => d.domain === "vouched.example")?.status).toBe("verified");
    expect(await auditedDomains("tenant.domain_verified")).toContain("vouched.example");
    expect(await scannedDomains()).toContain("vouched.example");
    // The operator sees each domain's state, as the portal's admins do.
    await tenantAdmin.request("POST", "/api/admin/domains", { domain: "listed-pending.example" });
    const listed = await cli("domain", "list");
    expect(listed.code).toBe(0);
    expect(listed.lines).toEqual(
      expect.arrayContaining([
        "cli.example\tverified\t0 people, 0 aliases, 0 groups",
        "listed-pending.example\tpending\t0 people, 0 aliases, 0 groups",
      ]),
    );
    expect(listed.lines.some((line) => line.startsWith("foreign.example"))).toBe(false);
    expect(await cli("domain", "add", "foreign.example")).toEqual({
      code: 1,
      lines: ["Error (already_exists): foreign.example belongs to another tenant."],
    });
  });

  it("is for tenant admins: a partner admin, who sees their own people only, neither lists nor changes them", async () => {
    const partnerAdmin = (await world.login(["partner_admin"], { partnerId: world.partnerId })).client;
    expect((await partnerAdmin.request("GET", "/api/admin/domains")).status).toBe(403);
    expect(
      (await partnerAdmin.request("POST", "/api/admin/domains", { domain: "partner.example" })).status,
    ).toBe(403);
    expect((await partnerAdmin.request("DELETE", "/api/admin/domains/example.com")).status).toBe(403);
    expect((await domains()).map((d) => d.domain)).not.toContain("partner.example");
  });
});
