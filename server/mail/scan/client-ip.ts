import { BlockList, isIPv4, isIPv6 } from "node:net";

/**
 * A client IP as a bare address, whichever form it came in: no surrounding brackets or "IPv6:" tag
 * (SMTP's address-literal), and an IPv4-mapped IPv6 address (::ffff:192.0.2.1, as a dual-stack socket
 * reports IPv4 peers) as the IPv4 address it is, when `unmap` is set.
 */
export function bareAddress(ip: string, options: { unmap?: boolean } = {}): string {
  const bare = ip
    .trim()
    .replace(/^\[|\]$/g, "")
    .replace(/^IPv6:/i, "");
  return options.unmap ? bare.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "") : bare;
}

/** Private, loopback, link-local, CGNAT and unspecified ranges: the gateway's own networks, never the Internet. */
const NOT_PUBLIC = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [
  ["::", 127],
  ["fc00::", 7],
  ["fe80::", 10],
] as const)
  NOT_PUBLIC.addSubnet(net, bits, "ipv6");

/**
 * Whether a client IP (any form bareAddress reads) is an Internet address: no blocklist lists the
 * others, and mail from them comes from our own network (a printer, an application server).
 */
export function isPublicAddress(clientIp: string): boolean {
  const ip = bareAddress(clientIp, { unmap: true });
  if (isIPv4(ip)) return !NOT_PUBLIC.check(ip, "ipv4");
  return isIPv6(ip) && !NOT_PUBLIC.check(ip, "ipv6");
}
