import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGraphKit, type GraphKit } from "./graph-kit";

interface SinkMessage {
  from: string;
  to: string[];
  raw: Buffer;
}

const ADELE = "adele@contoso.test";
const BOB = "bob@contoso.test";
const sink: SinkMessage[] = [];
let smtp: SMTPServer;
let kit: GraphKit;

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        sink.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  const port = (smtp.server.address() as AddressInfo).port;
  kit = await startGraphKit({ smtp: { host: "127.0.0.1", port } });
  kit.graph.addUser({ userPrincipalName: BOB, displayName: "Bob Lee" });
});
afterAll(async () => {
  await kit.close();
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

async function lastSunk(): Promise<{
  envelope: SinkMessage;
  parsed: Awaited<ReturnType<typeof simpleParser>>;
}> {
  await kit.graph.mailSettled();
  const envelope = sink[sink.length - 1];
  if (!envelope) throw new Error("nothing reached the SMTP sink");
  return { envelope, parsed: await simpleParser(envelope.raw) };
}

describe("Graph fake: sendMail, reply, forward", () => {
  it("sendMail (JSON) lands in Sent Items and on the SMTP sink, bcc in the envelope only", async () => {
    const result = await kit.call("POST", `/users/${ADELE}/sendMail`, {
      body: {
        message: {
          subject: "Quarterly numbers",
          body: { contentType: "Text", content: "See attached." },
          toRecipients: [{ emailAddress: { address: "carol@partner.test" } }],
          bccRecipients: [{ emailAddress: { address: "audit@partner.test" } }],
          attachments: [
            {
              "@odata.type": "#microsoft.graph.fileAttachment",
              name: "q.txt",
              contentType: "text/plain",
              contentBytes: Buffer.from("42").toString("base64"),
            },
          ],
        },
      },
    });
    expect(result.status).toBe(202);
    expect(result.text).toBe("");
    const { envelope, parsed } = await lastSunk();
    expect(envelope.from).toBe(ADELE);
    expect(envelope.to.sort()).toEqual(["audit@partner.test", "carol@partner.test"]);
    expect(parsed.subject).toBe("Quarterly numbers");
    expect(envelope.raw.toString()).not.toMatch(/^bcc:/im);
    expect(parsed.attachments.map((attachment) => attachment.filename)).toEqual(["q.txt"]);
    const sent = kit.graph.messages(ADELE, "sentitems");
    expect(sent.map((message) => message.subject)).toContain("Quarterly numbers");
    expect(kit.graph.sentMail.at(-1)?.smtp).toBe("delivered");
    const copy = kit.graph
      .messages(ADELE, "sentitems")
      .find((message) => message.subject === "Quarterly numbers");
    expect(kit.graph.mime(ADELE, copy?.immutableId ?? "").toString()).toMatch(/^Bcc: audit@partner.test/m);
  });

  it("sendMail with base64 MIME (text/plain) sends that MIME", async () => {
    const mime =
      "From: adele@contoso.test\r\nTo: dave@partner.test\r\nSubject: Raw MIME\r\nMessage-ID: <raw-1@contoso.test>\r\n\r\nHello\r\n";
    const result = await kit.call("POST", `/users/${ADELE}/sendMail`, {
      body: Buffer.from(mime).toString("base64"),
      headers: { "content-type": "text/plain" },
    });
    expect(result.status).toBe(202);
    const { parsed } = await lastSunk();
    expect(parsed.messageId).toBe("<raw-1@contoso.test>");
  });

  it("refuses a request over 4 MB (413), as Graph does, and sends nothing", async () => {
    const sentBefore = kit.graph.sentMail.length;
    const mime = `From: adele@contoso.test\r\nTo: dave@partner.test\r\nSubject: Big\r\n\r\n${"x".repeat(3_200_000)}\r\n`;
    const result = await kit.call("POST", `/users/${ADELE}/sendMail`, {
      body: Buffer.from(mime).toString("base64"),
      headers: { "content-type": "text/plain" },
    });
    expect(result.status).toBe(413);
    expect(kit.graph.sentMail.length).toBe(sentBefore);
  });

  it("refuses sendMail without recipients (400) and without Mail.Send (403)", async () => {
    const none = await kit.call("POST", `/users/${ADELE}/sendMail`, { body: { message: { subject: "x" } } });
    expect(none.status).toBe(400);
    const token = await kit.entra.mintGraphToken({ roles: ["Mail.ReadWrite"] });
    const denied = await kit.call("POST", `/users/${ADELE}/sendMail`, {
      token,
      body: { message: { toRecipients: [{ emailAddress: { address: "a@b.test" } }] } },
    });
    expect(denied.status).toBe(403);
  });

  it("reply goes to the original sender with RE:, In-Reply-To and the quoted original", async () => {
    const original = await kit.graph.deliver(ADELE, {
      from: { name: "Eve", address: "eve@external.test" },
      to: [ADELE],
      subject: "Question",
      text: "Is this phishing?",
      internetMessageId: "<q-1@external.test>",
    });
    const result = await kit.call("POST", `/users/${ADELE}/messages/${original.restId}/reply`, {
      body: { comment: "It was held." },
    });
    expect(result.status).toBe(202);
    const { envelope, parsed } = await lastSunk();
    expect(envelope.to).toEqual(["eve@external.test"]);
    expect(parsed.subject).toBe("RE: Question");
    expect(parsed.inReplyTo).toBe("<q-1@external.test>");
    expect(parsed.text).toContain("It was held.");
    expect(parsed.text).toContain("Is this phishing?");
  });

  it("forward keeps the original's attachments and lands in Sent Items", async () => {
    const original = await kit.graph.deliver(ADELE, {
      from: "frank@external.test",
      to: [ADELE],
      subject: "Invoice",
      text: "Please pay",
      attachments: [
        { filename: "invoice.pdf", content: Buffer.from("%PDF-1.4"), contentType: "application/pdf" },
      ],
    });
    const result = await kit.call("POST", `/users/${ADELE}/messages/${original.immutableId}/forward`, {
      body: {
        comment: "FYI",
        toRecipients: [{ emailAddress: { address: "security@partner.test", name: "Security" } }],
      },
    });
    expect(result.status).toBe(202);
    const { envelope, parsed } = await lastSunk();
    expect(envelope.to).toEqual(["security@partner.test"]);
    expect(parsed.subject).toBe("FW: Invoice");
    expect(parsed.attachments.map((attachment) => attachment.filename)).toEqual(["invoice.pdf"]);
    expect(kit.graph.messages(ADELE, "sentitems").map((message) => message.subject)).toContain("FW: Invoice");
    const noRecipients = await kit.call("POST", `/users/${ADELE}/messages/${original.immutableId}/forward`, {
      body: { comment: "x" },
    });
    expect(noRecipients.status).toBe(400);
  });

  it("delivers mail to another user of the fake into their inbox", async () => {
    await kit.call("POST", `/users/${ADELE}/sendMail`, {
      body: {
        message: {
          subject: "Internal",
          body: { contentType: "HTML", content: "<p>hi</p>" },
          toRecipients: [{ emailAddress: { address: BOB } }],
        },
      },
    });
    await kit.graph.mailSettled();
    expect(kit.graph.messages(BOB, "inbox").map((message) => message.subject)).toEqual(["Internal"]);
  });
});
