import net from "node:net";

// The names Express (proxy-addr) gives to address ranges in a trust proxy list.
const NAMED_RANGES = new Set(["loopback", "linklocal", "uniquelocal"]);

function isProxyAddress(entry: string): boolean {
  if (NAMED_RANGES.has(entry)) return true;
  const [address = "", bits, ...rest] = entry.split("/");
  const family = net.isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  if (family === 4 && net.isIPv4(bits)) return true; // a netmask: 192.168.0.0/255.255.0.0
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/**
 * Express's `trust proxy` from `MAILWARD_TRUST_PROXY` as written in an environment: a number of hops in front ("1"),
 * true or false, or a comma-separated list of proxy addresses, subnets and named ranges. Express reads a string as
 * addresses only, so "1" stopped the server at start ("invalid IP address"). Null for anything else.
 */
export function trustProxySetting(value: string): boolean | number | string | null {
  const trimmed = value.trim();
  if (/^(true|false)$/i.test(trimmed)) return trimmed.toLowerCase() === "true";
  if (/^\d{1,2}$/.test(trimmed)) return Number(trimmed);
  const entries = trimmed.split(",").map((entry) => entry.trim().toLowerCase());
  if (entries.length === 0 || !entries.every(isProxyAddress)) return null;
  return entries.join(",");
}
