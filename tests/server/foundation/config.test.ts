import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, configSchema, loadConfig, tenantDomainsFrom } from "../../../server/config";

describe("loadConfig", () => {
  it("fills in the embedded defaults", () => {
    const config = loadConfig({});
    expect(config.MAILWARD_HTTP_PORT).toBe(3000);
    expect(config.MAILWARD_SMTP_PORT).toBe(2525);
    expect(config.dataDir).toBe(path.resolve("./data"));
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it("names the variable, the value and what was expected", () => {
    expect(() => loadConfig({ MAILWARD_NEXT_HOP: "nohost" })).toThrow(ConfigError);
    expect(() => loadConfig({ MAILWARD_NEXT_HOP: "nohost" })).toThrow(
      /MAILWARD_NEXT_HOP="nohost": expected .*host:port/,
    );
    expect(() => loadConfig({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL="mysql:\/\/x"/);
  });

  it("refuses more than 1,000 recipients per message, which one commit statement could not bind", () => {
    expect(loadConfig({ MAILWARD_SMTP_MAX_RECIPIENTS: "1000" }).MAILWARD_SMTP_MAX_RECIPIENTS).toBe(1000);
    expect(() => loadConfig({ MAILWARD_SMTP_MAX_RECIPIENTS: "1001" })).toThrow(
      /MAILWARD_SMTP_MAX_RECIPIENTS="1001"/,
    );
  });

  it("scans messages of 32 KB or more on a thread under a 15 s limit, which must fit twice in the SMTP idle timeout", () => {
    const config = loadConfig({});
    expect(config.MAILWARD_SCAN_THREAD_MIN_BYTES).toBe(32 * 1024);
    expect(config.MAILWARD_SCAN_STALL_LIMIT_MS).toBe(15_000);
    expect(loadConfig({ MAILWARD_SCAN_STALL_LIMIT_MS: "25000" }).MAILWARD_SCAN_STALL_LIMIT_MS).toBe(25_000);
    expect(() => loadConfig({ MAILWARD_SCAN_STALL_LIMIT_MS: "25001" })).toThrow(
      /MAILWARD_SCAN_STALL_LIMIT_MS="25001"/,
    );
  });

  it("reads the DNS blocklists as a clean list of zones, and names a zone that is not one", () => {
    expect(loadConfig({}).MAILWARD_DNSBL).toEqual([]);
    expect(loadConfig({ MAILWARD_DNSBL: " Zen.Spamhaus.org, ,bl.spamcop.net. " }).MAILWARD_DNSBL).toEqual([
      "zen.spamhaus.org",
      "bl.spamcop.net.",
    ]);
    expect(() => loadConfig({ MAILWARD_DNSBL: "zen.spamhaus.org,not a zone" })).toThrow(
      /MAILWARD_DNSBL=.*DNS zone/,
    );
  });

  it("reads the tenant domains as a clean list", () => {
    expect(tenantDomainsFrom(loadConfig({ MAILWARD_TENANT_DOMAINS: " Example.com, ,b.org " }))).toEqual([
      "example.com",
      "b.org",
    ]);
  });

  it("stores internationalised tenant domains in punycode, once, and refuses what is not a domain name", () => {
    const listed = loadConfig({ MAILWARD_TENANT_DOMAINS: "Bücher.example,xn--bcher-kva.example., b.org" });
    expect(tenantDomainsFrom(listed)).toEqual(["xn--bcher-kva.example", "b.org"]);
    expect(() => loadConfig({ MAILWARD_TENANT_DOMAINS: "example.com,not a domain" })).toThrow(
      /MAILWARD_TENANT_DOMAINS="example.com,not a domain": expected a comma-separated list of domain names/,
    );
    expect(() => loadConfig({ MAILWARD_TENANT_DOMAINS: "localhost" })).toThrow(/MAILWARD_TENANT_DOMAINS/);
  });
});

describe("README", () => {
  it("documents every setting the config schema reads", () => {
    const readme = fs.readFileSync(path.join(process.cwd(), "README.md"), "utf8");
    const undocumented = Object.keys(configSchema.shape).filter((name) => !readme.includes(`\`${name}\``));
    expect(undocumented).toEqual([]);
  });
});
