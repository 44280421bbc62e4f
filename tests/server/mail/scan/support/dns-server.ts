import { createSocket, type RemoteInfo } from "node:dgram";
import { txtAnswer, type FakeZone } from "./fake-dns";

/** A fake public DNS served over UDP on 127.0.0.1, for a daemon (rspamd) that does its own lookups. */
export interface DnsServerHandle {
  /** `127.0.0.1:<port>`, as rspamd's `nameserver` option takes it. */
  address: string;
  /** Every question asked, as `<TYPE> <name>` (lower case). */
  queries: string[];
  stop: () => Promise<void>;
}

const TYPES: Record<number, string> = { 1: "A", 15: "MX", 16: "TXT", 28: "AAAA", 12: "PTR" };

/** The question of a DNS query: its name, type, and where the question section ends. */
function readQuestion(query: Buffer): { name: string; type: number; end: number } | null {
  let at = 12;
  const labels: string[] = [];
  while (at < query.length) {
    const length = query[at] ?? 0;
    if (length === 0) break;
    if (length > 63) return null;
    labels.push(query.subarray(at + 1, at + 1 + length).toString("latin1"));
    at += 1 + length;
  }
  if (at + 5 > query.length) return null;
  return { name: labels.join(".").toLowerCase(), type: query.readUInt16BE(at + 1), end: at + 5 };
}

/** One answer record: a pointer to the question's name, then type, class IN, a TTL of 60 s and the data. */
function record(type: number, data: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4);
  head.writeUInt32BE(60, 6);
  head.writeUInt16BE(data.length, 10);
  return Buffer.concat([head, data]);
}

/**
 * The answer to one query from the zone: the records of the asked type, NXDOMAIN for a name the zone lacks, SERVFAIL
 * for a name in `failing` (its server is down: a resolver's temporary error).
 */
export function dnsAnswer(
  query: Buffer,
  zone: FakeZone,
  failing: ReadonlySet<string> = new Set(),
): Buffer | null {
  if (query.length < 12) return null;
  const question = readQuestion(query);
  if (!question) return null;
  const { name, type, end } = question;
  const txt = zone.txt?.[name];
  const a = zone.a?.[name];
  const answers: Buffer[] = [];
  if (type === 16 && txt) {
    for (const value of txt) {
      const strings = txtAnswer(value).map((s) => Buffer.from(s, "latin1"));
      answers.push(record(16, Buffer.concat(strings.flatMap((s) => [Buffer.from([s.length]), s]))));
    }
  }
  if (type === 1 && a) for (const ip of a) answers.push(record(1, Buffer.from(ip.split(".").map(Number))));
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2);
  const recursionDesired = (query[2] ?? 0) & 0x01;
  header[2] = 0x84 | recursionDesired; // a response, authoritative
  if (failing.has(name)) {
    header[3] = 0x80 | 2; // SERVFAIL, no answers
    header.writeUInt16BE(1, 4);
    return Buffer.concat([header, query.subarray(12, end)]);
  }
  header[3] = 0x80 | (txt || a ? 0 : 3); // recursion available; NXDOMAIN for unknown names
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  return Buffer.concat([header, query.subarray(12, end), ...answers]);
}

/**
 * Starts a UDP DNS server on 127.0.0.1 answering TXT and A from `zone` (see `fakeResolver` for the same zone), and
 * SERVFAIL for the names in `failing` (see `partlyBrokenResolver`).
 */
export async function startDnsServer(
  zone: FakeZone,
  failing: readonly string[] = [],
): Promise<DnsServerHandle> {
  const down = new Set(failing.map((name) => name.toLowerCase()));
  const socket = createSocket("udp4");
  const queries: string[] = [];
  socket.on("message", (query: Buffer, peer: RemoteInfo) => {
    const question = readQuestion(query);
    if (question) queries.push(`${TYPES[question.type] ?? question.type} ${question.name}`);
    const answer = dnsAnswer(query, zone, down);
    if (answer) socket.send(answer, peer.port, peer.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => resolve());
  });
  const port = socket.address().port;
  return {
    address: `127.0.0.1:${port}`,
    queries,
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
