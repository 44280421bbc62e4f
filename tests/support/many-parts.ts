/**
 * A multipart message of `count` small text attachments with a Windows program as the last part: past mailparser's
 * default of 1,000 MIME parts, the program is what a scan that gave up would miss (the gateway's and Graph's tests).
 */
export function manyPartsWithProgram(input: {
  from: string;
  to: string;
  messageId: string;
  count: number;
  filename?: string;
}): string {
  const lines = [
    `From: ${input.from}`,
    `To: ${input.to}`,
    "Subject: the files you asked for",
    `Message-ID: ${input.messageId}`,
    "Date: Mon, 04 May 2026 10:00:00 +0000",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b"',
    "",
  ];
  for (let i = 0; i < input.count; i++) {
    lines.push(
      "--b",
      `Content-Type: text/plain; name="f${i}.txt"`,
      "Content-Disposition: attachment",
      "",
      `part ${i}`,
    );
  }
  lines.push(
    "--b",
    `Content-Type: application/octet-stream; name="${input.filename ?? "setup.exe"}"`,
    "Content-Disposition: attachment",
    "Content-Transfer-Encoding: base64",
    "",
    Buffer.from("MZ\x90\x00\x03\x00\x00\x00", "latin1").toString("base64"),
    "--b--",
    "",
  );
  return lines.join("\r\n");
}
