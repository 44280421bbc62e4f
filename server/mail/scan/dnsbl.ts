import { isIPv4 } from "node:net";
import ipaddr from "ipaddr.js";
import { bareAddress, isPublicAddress } from "./client-ip";
import type { DnsResolver } from "./dns";

/** The 32 hex nibbles of an IPv6 address, most significant first. */
function ipv6Nibbles(ip: string): string[] {
  return ipaddr.IPv6.parse(ip)
    .toByteArray()
    .flatMap((byte) => [(byte >> 4).toString(16), (byte & 15).toString(16)]);
}

/**
 * The DNSBL query name for a client IP in a zone (RFC 5782 §2.1: the IPv4 octets reversed; §2.4:
 * the IPv6 nibbles reversed), or null for an address no public list holds (private, loopback,
 * link-local, CGNAT) or for something that is not an address. IPv4-mapped IPv6 is asked as IPv4.
 */
export function dnsblQueryName(clientIp: string, zone: string): string | null {
  const ip = bareAddress(clientIp, { unmap: true });
  const name = zone.trim().replace(/\.$/, "").toLowerCase();
  if (name === "") return null;
  if (!isPublicAddress(ip)) return null;
  if (isIPv4(ip)) return `${ip.split(".").reverse().join(".")}.${name}`;
  return `${ipv6Nibbles(ip).reverse().join(".")}.${name}`;
}

/**
 * Whether an A record of a DNSBL answer means "listed": an address in 127.0.0.0/8 (RFC 5782 §2.1),
 * except 127.0.0.1 (unused by convention) and 127.255.255.0/24, which Spamhaus answers for refused
 * queries (a public resolver, over the free limit). Anything outside 127/8 is a resolver that
 * rewrites NXDOMAIN to an advert, never a listing.
 */
export function isListingCode(address: unknown): boolean {
  if (typeof address !== "string" || !isIPv4(address)) return false;
  const [a, b, c] = address.split(".").map(Number);
  if (a !== 127 || address === "127.0.0.1") return false;
  return !(b === 255 && c === 255);
}

/** One blocklist that lists the client, with the codes it answered. */
export interface DnsblListing {
  zone: string;
  codes: string[];
}

/**
 * Asks every zone about the client IP at once. A zone that does not list it, cannot be reached, or
 * answers a refusal code simply does not count: a blocklist outage must never hold mail.
 */
export async function dnsblListings(
  clientIp: string,
  zones: readonly string[],
  resolver: DnsResolver,
): Promise<DnsblListing[]> {
  const answers = await Promise.all(
    zones.map(async (zone) => {
      const name = dnsblQueryName(clientIp, zone);
      if (!name) return null;
      try {
        const codes = (await resolver(name, "A")).filter(isListingCode).map(String);
        return codes.length > 0 ? { zone: zone.trim().toLowerCase(), codes } : null;
      } catch {
        return null;
      }
    }),
  );
  return answers.filter((a): a is DnsblListing => a !== null);
}
