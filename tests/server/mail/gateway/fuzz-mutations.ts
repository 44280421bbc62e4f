import {
  BAD_ADDRESSES,
  BAD_DATES,
  BAD_ENCODED_WORDS,
  CHARSETS,
  CTES,
  NASTY_BYTES,
  NASTY_RUNS,
  hostileHtml,
  zipAttachment,
  type Rng,
} from "./fuzz-inputs";

export { seededRng, type Rng } from "./fuzz-inputs";

/** A message as latin1 text (one char a byte, so no byte is lost), split at the blank line after the headers. */
interface Split {
  headers: string[];
  eol: string;
  body: string;
}

function split(raw: Buffer): Split {
  const text = raw.toString("latin1");
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const at = text.indexOf(`${eol}${eol}`);
  const head = at < 0 ? text : text.slice(0, at);
  const body = at < 0 ? "" : text.slice(at + eol.length * 2);
  // Unfold into logical header lines (a continuation stays with its field).
  const headers: string[] = [];
  for (const line of head.split(eol)) {
    if (/^[ \t]/.test(line) && headers.length > 0) headers[headers.length - 1] += `${eol}${line}`;
    else headers.push(line);
  }
  return { headers, eol, body };
}

function join(s: Split): Buffer {
  return Buffer.from(`${s.headers.join(s.eol)}${s.eol}${s.eol}${s.body}`, "latin1");
}

/** Replaces every field of this name (or adds one when there is none). */
function setHeader(s: Split, name: string, value: string): Split {
  const re = new RegExp(`^${name}:`, "i");
  const others = s.headers.filter((h) => !re.test(h));
  return { ...s, headers: [...others, `${name}: ${value}`] };
}

function nest(s: Split, depth: number): Split {
  const type = s.headers.find((h) => /^content-type:/i.test(h)) ?? "Content-Type: text/plain";
  let body = `${type}${s.eol}${s.eol}${s.body}`;
  for (let level = 0; level < depth; level++) {
    const b = `n${level}`;
    body = [`Content-Type: multipart/mixed; boundary="${b}"`, "", `--${b}`, body, `--${b}--`, ""].join(s.eol);
  }
  const headers = s.headers.filter((h) => !/^content-(type|transfer-encoding):/i.test(h));
  const at = body.indexOf(`${s.eol}${s.eol}`);
  return {
    ...s,
    headers: [...headers, "MIME-Version: 1.0", body.slice(0, at)],
    body: body.slice(at + s.eol.length * 2),
  };
}

type Mutation = (raw: Buffer, rng: Rng) => Buffer;

/** The mutations, by name (the name is what a failure report prints). */
export const MUTATIONS: Record<string, Mutation> = {
  truncate: (raw, rng) => raw.subarray(0, 1 + rng.int(Math.max(1, raw.length - 1))),
  flipBytes: (raw, rng) => {
    const out = Buffer.from(raw);
    for (let i = 1 + rng.int(20); i > 0; i--)
      out[rng.int(out.length)] = rng.next() < 0.6 ? rng.pick(NASTY_BYTES) : rng.int(256);
    return out;
  },
  insertBytes: (raw, rng) => {
    let out = raw;
    for (let i = 1 + rng.int(10); i > 0; i--) {
      const at = rng.int(out.length + 1);
      out = Buffer.concat([
        out.subarray(0, at),
        Buffer.from(rng.pick(NASTY_RUNS), "latin1"),
        out.subarray(at),
      ]);
    }
    return out;
  },
  duplicateHeader: (raw, rng) => {
    const s = split(raw);
    const h = rng.pick(s.headers);
    s.headers.splice(rng.int(s.headers.length + 1), 0, ...Array.from({ length: 1 + rng.int(50) }, () => h));
    return join(s);
  },
  deleteHeader: (raw, rng) => {
    const s = split(raw);
    const wanted = rng.pick([
      "from",
      "to",
      "content-type",
      "mime-version",
      "date",
      "message-id",
      "content-transfer-encoding",
      "",
    ]);
    s.headers = s.headers.filter((h, i) =>
      wanted ? !h.toLowerCase().startsWith(`${wanted}:`) : i !== rng.int(s.headers.length),
    );
    return join(s);
  },
  breakBoundary: (raw, rng) => {
    const text = raw.toString("latin1");
    const boundary = /boundary="?([^";\r\n]+)"?/i.exec(text)?.[1];
    if (!boundary)
      return Buffer.from(
        text.replace(/^content-type:[^\r\n]*/im, 'Content-Type: multipart/mixed; boundary=""'),
        "latin1",
      );
    const bad = rng.pick(["", "--", " ", boundary.slice(0, -1), `${boundary}x`, "\0"]);
    const how = rng.int(4);
    if (how === 0)
      return Buffer.from(
        text
          .replace(`boundary="${boundary}"`, `boundary="${bad}"`)
          .replace(`boundary=${boundary}`, `boundary=${bad}`),
        "latin1",
      );
    if (how === 1) return Buffer.from(text.split(`--${boundary}--`).join(""), "latin1");
    if (how === 2) return Buffer.from(text.split(`--${boundary}`).join(`--${bad}`), "latin1");
    const at = rng.int(text.length);
    return Buffer.from(`${text.slice(0, at)}\r\n--${boundary}\r\n${text.slice(at)}`, "latin1");
  },
  absurdEncoding: (raw, rng) => join(setHeader(split(raw), "Content-Transfer-Encoding", rng.pick(CTES))),
  absurdCharset: (raw, rng) => {
    const s = split(raw);
    const type = /^content-type:\s*([^;\r\n]*)/im.exec(s.headers.join("\n"))?.[1] || "text/plain";
    return join(setHeader(s, "Content-Type", `${type}; charset=${rng.pick(CHARSETS)}`));
  },
  hugeHeader: (raw, rng) => {
    const s = split(raw);
    const size = rng.pick([1000, 20_000, 200_000]);
    const value = rng.pick([
      () => "h".repeat(size),
      () => Array.from({ length: size / 10 }, () => "word").join(`${s.eol} `),
      () => `=?utf-8?B?${Buffer.alloc(size / 2, 0xe9).toString("base64")}?=`,
      // Raw UTF-8 that does not compress: CJK characters at random, three bytes each.
      () =>
        `<${Buffer.from(Array.from({ length: size / 3 }, () => String.fromCharCode(0x4e00 + rng.int(20000))).join("")).toString("latin1")}@x>`,
    ])();
    return join(
      setHeader(
        s,
        rng.pick([
          "X-Huge",
          "Subject",
          "Message-ID",
          "References",
          "In-Reply-To",
          "Received",
          "DKIM-Signature",
          "Content-Type",
        ]),
        value,
      ),
    );
  },
  deepNesting: (raw, rng) => join(nest(split(raw), rng.pick([30, 120, 400]))),
  badAddress: (raw, rng) =>
    join(
      setHeader(
        split(raw),
        rng.pick(["From", "To", "Reply-To", "Cc", "Sender", "Return-Path"]),
        rng.pick(BAD_ADDRESSES),
      ),
    ),
  badEncodedWord: (raw, rng) => {
    const word = rng.pick(BAD_ENCODED_WORDS);
    const field = rng.pick(["Subject", "From", "To"]);
    return join(setHeader(split(raw), field, field === "Subject" ? word : `${word} <someone@nice.test>`));
  },
  badDate: (raw, rng) => join(setHeader(split(raw), "Date", rng.pick(BAD_DATES))),
  brokenTransfer: (raw, rng) => {
    const s = split(raw);
    const base64 = rng.next() < 0.5;
    const junk = base64
      ? rng.pick(["!!!!", "====", "QUJD\0REVG", "QQ", `${"QUFB".repeat(30000)}=`, "=QUFB", "\xff\xfe"])
      : rng.pick(["=ZZ", "=", "=0", "=\r\n=\r\n", `${"a=\r\n".repeat(20000)}`, "=C3=", "=\0"]);
    const headers = s.headers.filter((h) => !/^content-(type|transfer-encoding):/i.test(h));
    const type = rng.pick([
      "text/plain; charset=utf-8",
      "text/html",
      'application/octet-stream; name="x.bin"',
    ]);
    const enc = base64 ? "base64" : "quoted-printable";
    return join({
      ...s,
      headers: [...headers, `Content-Type: ${type}`, `Content-Transfer-Encoding: ${enc}`],
      body: `${s.body.slice(0, 2000)}${junk}`,
    });
  },
  badZip: (raw, rng) => {
    const s = split(raw);
    const { name, content } = zipAttachment(rng);
    const headers = s.headers.filter((h) => !/^content-(type|transfer-encoding):/i.test(h));
    const body = [
      "--zz",
      "Content-Type: text/plain",
      "",
      s.body.slice(0, 2000),
      "--zz",
      `Content-Type: application/octet-stream; name="${name}"`,
      `Content-Disposition: attachment; filename="${name}"`,
      "Content-Transfer-Encoding: base64",
      "",
      content.toString("base64").replace(/.{76}/g, "$&\r\n"),
      rng.next() < 0.5 ? "--zz--" : "",
      "",
    ].join("\r\n");
    return join({
      ...s,
      headers: [...headers, "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="zz"'],
      body,
    });
  },
  hostileHtml: (raw, rng) => {
    const s = split(raw);
    const headers = s.headers.filter((h) => !/^content-(type|transfer-encoding):/i.test(h));
    const html = hostileHtml(rng);
    if (rng.next() < 0.5) return join({ ...s, headers: [...headers, "Content-Type: text/html"], body: html });
    const body = [
      "--h",
      "Content-Type: text/plain",
      "",
      s.body.slice(0, 2000),
      "--h",
      'Content-Type: text/html; name="page.html"',
      "Content-Disposition: attachment",
      "",
      html,
      "--h--",
      "",
    ].join("\r\n");
    return join({
      ...s,
      headers: [...headers, "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="h"'],
      body,
    });
  },
  garbageHeaders: (raw, rng) => {
    const s = split(raw);
    const junk = rng.pick([
      ": no name",
      "No colon here",
      " leading space",
      "X-\xff\xfe: 8bit name",
      "X-Empty:",
      "\0: nul",
      "From:",
      `X-${"n".repeat(3000)}: long name`,
    ]);
    s.headers.splice(rng.int(s.headers.length + 1), 0, junk);
    return join(s);
  },
};

/** Applies 1–3 seeded mutations to one message; `applied` names them, for the failure message. */
export function mutate(raw: Buffer, rng: Rng): { raw: Buffer; applied: string[] } {
  const names = Object.keys(MUTATIONS);
  const applied: string[] = [];
  let out = raw;
  for (let i = 1 + rng.int(3); i > 0; i--) {
    const name = rng.pick(names);
    applied.push(name);
    out = MUTATIONS[name]!(out, rng);
  }
  return { raw: out.length > 0 ? out : Buffer.from("\r\n"), applied };
}

/**
 * The bytes the gateway receives for `raw` sent with nodemailer: its DATA stream turns every bare CR and bare LF into
 * CRLF, and a message that does not end in a line break gets one (the CRLF before the final dot).
 */
export function onTheWire(raw: Buffer): Buffer {
  const text = raw.toString("latin1").replace(/\r\n|\r|\n/g, "\r\n");
  return Buffer.from(text.endsWith("\r\n") ? text : `${text}\r\n`, "latin1");
}
