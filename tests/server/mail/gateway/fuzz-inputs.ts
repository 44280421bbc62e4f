import { buildZip } from "../scan/support/zip-builder";

/** A seeded pseudo-random source (mulberry32), so a fuzz run is the same run every time for one seed. */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
}

/** The seeded generator the fuzz tests draw every choice from. */
export function seededRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: (items) => items[int(items.length)]! };
}

/** Fuzz input: nasty bytes. */
export const NASTY_BYTES = [
  0x00, 0x80, 0xff, 0xc3, 0xe2, 0xfe, 0x0d, 0x0a, 0x3d, 0x2d, 0x3a, 0x22, 0x3c, 0x09, 0x1b,
];
/** Fuzz input: nasty runs. */
export const NASTY_RUNS = [
  "\0",
  "\0\0\0\0",
  "\r",
  "\n",
  "\r\r\n",
  "=?",
  "?=",
  "--",
  "\xff\xfe",
  "\xc3(",
  "\xed\xa0\x80",
  ":",
  ";",
  '"',
];

/** Fuzz input: bad addresses. */
export const BAD_ADDRESSES = [
  "<<>>",
  "@",
  "a@b@c",
  '"unterminated <x@nice.test>',
  "=?utf-8?B?####?= <x@>",
  "undisclosed-recipients:;",
  "Board: a@nice.test, b@; c@x.test",
  "x@[300.1.1.1]",
  "x@-bad-.test",
  "x@xn--",
  "x@xn--zz--.test",
  "\xe9l\xe8ve@\xe9cole.test",
  "a\0b@nice.test",
  "<@route,@route:x@nice.test>",
  "x@nice.test>",
  "(comment (nested (deep) x@nice.test",
  ", , , ,",
  `${"a".repeat(5000)}@nice.test`,
  `x@${"sub.".repeat(2000)}test`,
  Array.from({ length: 3000 }, (_, i) => `u${i}@n${i}.test`).join(", "),
  "Bank <bank.test>",
  "\\\\\\@\\",
  "x@nice.test (\xe9\xe8\xff",
];

/** Fuzz input: bad encoded words. */
export const BAD_ENCODED_WORDS = [
  "=?utf-8?B?####?=",
  "=?bogus-charset?Q?abc?=",
  "=?utf-8?Q?=ZZ=?=",
  "=?utf-8?X?abc?=",
  "=?utf-8?B?",
  "=?=?=?=?=?",
  "=?utf-8*en?B??=",
  "=?utf-16?B?2D3cAA==?=",
  "=?utf-7?Q?+AGEAYgBj-?=",
  "=?iso-2022-jp?B?GyRCJCIbKEI?=",
  `=?utf-8?B?${"QUFB".repeat(20000)}?=`,
  Array.from({ length: 2000 }, () => "=?utf-8?Q?=C3?=").join(" "),
  "=?utf-8?B?7aCA?=",
];

/** Fuzz input: bad dates. */
export const BAD_DATES = [
  "",
  "99 Foo 99999 99:99:99 +9999",
  "Tue, 31 Feb 2024 25:61:61 +0000",
  "0",
  "-1",
  "275760-09-14T00:00:00Z",
  "Mon, 01 Jan -271821 00:00:00 +0000",
  "Fri, 13 Dec 1901 20:45:52 -2400",
  "\xff\xfe\0",
  "1".repeat(400),
  "Sat, 1 Jan 10000 00:00:00 GMT",
];

/** Fuzz input: ctes. */
export const CTES = [
  "base64",
  "quoted-printable",
  "x-uuencode",
  "BASE64; junk",
  "7bit 8bit",
  "",
  "x".repeat(5000),
  "binary",
  "gzip",
  "=?utf-8?B?YmFzZTY0?=",
];
/** Fuzz input: charsets. */
export const CHARSETS = [
  "utf-7",
  "utf-16",
  "utf-32le",
  "x-unknown",
  "",
  '"',
  "iso-2022-jp",
  "gb18030",
  "shift_jis",
  "utf-8\0",
  "a".repeat(1000),
  "cp1252'en'",
  "unicode-1-1-utf-7",
  "ucs-2",
];

/** A zip, an archive within archives, an Office-like or a crafted one, then maybe truncated or scribbled over. */
export function zipAttachment(rng: Rng): { name: string; content: Buffer } {
  const exe = Buffer.concat([Buffer.from("MZ\x90\0", "latin1"), Buffer.alloc(200, 0x41)]);
  const inner = buildZip([{ name: "a.txt", content: Buffer.from("hello") }]);
  const zip = rng.pick([
    () => buildZip([{ name: "setup.exe", content: exe }]),
    () => buildZip([{ name: "inner.zip", content: buildZip([{ name: "deep.zip", content: inner }]) }]),
    () =>
      buildZip([
        { name: "word/vbaProject.bin", content: Buffer.alloc(64, 1) },
        { name: "[Content_Types].xml", content: Buffer.from("<Types/>") },
      ]),
    () => buildZip([{ name: "../../etc/passwd\0.txt", content: Buffer.from("x"), encrypted: true }]),
    () => buildZip([{ name: "big.bin", content: Buffer.alloc(100), declaredSize: 0xffffffff }]),
    () => buildZip(Array.from({ length: 3000 }, (_, i) => ({ name: `f${i}`, content: Buffer.from("") }))),
  ])();
  // Then break it: truncate, scribble over the central directory, or leave it whole.
  const broken = Buffer.from(zip);
  const how = rng.int(4);
  if (how === 0) return { name: "a.zip", content: broken.subarray(0, 1 + rng.int(broken.length - 1)) };
  if (how === 1)
    for (let i = 0; i < 8; i++)
      broken[broken.length - 1 - rng.int(Math.min(120, broken.length))] = rng.int(256);
  if (how === 2) for (let i = 0; i < 8; i++) broken[rng.int(broken.length)] = rng.pick(NASTY_BYTES);
  return {
    name: rng.pick(["a.zip", "b.docm", "c.xlsm", "d.jar", "e.odt", "f.ZIP", "g.apk"]),
    content: broken,
  };
}

/** Wraps the body in `depth` levels of multipart (so it keeps its own Content-Type as the innermost part). */

/** Hostile HTML of the kinds that once took the scanner seconds to minutes (tags that never close, no > at all). */
export function hostileHtml(rng: Rng): string {
  const unit = rng.pick([
    "<a href=x ",
    "<a ",
    '<a href="x',
    "<form ",
    "<",
    "<div>",
    '<a href="http://192.0.2.1/">',
    "<script>.download=",
  ]);
  return unit.repeat(rng.pick([1000, 5000, 20_000]));
}
