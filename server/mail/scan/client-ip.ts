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
