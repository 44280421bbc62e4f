import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../../server/logger";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger("info", stream), lines };
}

describe("structured logs", () => {
  it("redacts passwords, tokens, TOTP codes, cookies and message bodies", () => {
    const { logger, lines } = capture();
    logger.info(
      {
        password: "hunter2-secret",
        user: { totp: "123456", token: "eyJ.secret.token" },
        req: { headers: { authorization: "Bearer eyJ.abc", cookie: "mw_session=abc" } },
        message: { body: "Dear customer, your PIN is 4242", raw: "RAW MIME", subject: "kept" },
      },
      "event",
    );
    const out = lines.join("");
    for (const secret of [
      "hunter2-secret",
      "123456",
      "eyJ.secret.token",
      "Bearer eyJ.abc",
      "mw_session=abc",
      "PIN is 4242",
      "RAW MIME",
    ]) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain("kept");
    expect(JSON.parse(out).password).toBe("[redacted]");
  });
});
