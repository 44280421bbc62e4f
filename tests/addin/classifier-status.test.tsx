import { describe, expect, it, vi } from "vitest";
import type { z } from "zod";
import type { classifierStatus } from "../../shared/schemas/classifier";
import { ClassifierStatus, classifierSentence } from "../../addin/taskpane/views/review/ClassifierStatus";
import {
  AGENT,
  apiOver,
  byTestId,
  json,
  renderWithApp,
  routeNotFound,
  SECURITY_ADMIN,
  waitFor,
  type Mounted,
} from "./support/render";

type Status = z.infer<typeof classifierStatus>;

const NONE = { ham: 0, spam: 0, phish: 0 };
const NEW: Status = {
  messages: { ham: 2, spam: 0, phish: 0 },
  tokens: 40,
  tokenLimit: 1_000_000,
  active: false,
  minimumPerSide: 5,
  separatesPhish: false,
  learntFrom: { feedback: { ham: 2, spam: 0, phish: 0 }, labelledMail: NONE },
  updatedAt: "2026-11-30T09:00:00.000Z",
};
const TRAINED: Status = {
  messages: { ham: 1200, spam: 900, phish: 3 },
  tokens: 214_500,
  tokenLimit: 1_000_000,
  active: true,
  minimumPerSide: 5,
  separatesPhish: false,
  learntFrom: { feedback: { ham: 200, spam: 0, phish: 3 }, labelledMail: { ham: 1000, spam: 900, phish: 0 } },
  updatedAt: "2026-11-30T09:00:00.000Z",
};

function fakeServer(answer: () => Response) {
  return vi.fn<typeof fetch>(async (input) => {
    const url = new URL(String(input), "https://mailward.test");
    return url.pathname === "/api/admin/classifier" ? answer() : routeNotFound();
  });
}

let mounted: Mounted | null = null;

describe("ClassifierStatus", () => {
  it("warns that content does not count yet, says what is missing and what taught it so far", async () => {
    const fetchMock = fakeServer(() => json(200, NEW));
    mounted = await renderWithApp(<ClassifierStatus />, apiOver(fetchMock), SECURITY_ADMIN);
    const status = await waitFor(() => byTestId(mounted!.container, "classifier-status"));
    expect(status.getAttribute("data-intent")).toBe("warning");
    expect(status.textContent).toContain(
      "Content does not count in verdicts yet: the classifier needs 3 more wanted messages and 5 more spam or phish.",
    );
    expect(byTestId(mounted.container, "classifier-sources")?.textContent).toBe(
      "From reports and releases: 2 wanted messages, 0 spam messages and 0 phishing messages. From labelled mail (npm run mailward -- train): 0 wanted messages, 0 spam messages and 0 phishing messages.",
    );
  });

  it("sets the summary and its sources on lines of their own (inline, the sentences ran together: 'messages.From')", async () => {
    mounted = await renderWithApp(
      <ClassifierStatus />,
      apiOver(fakeServer(() => json(200, NEW))),
      SECURITY_ADMIN,
    );
    const sources = await waitFor(() => byTestId(mounted!.container, "classifier-sources"));
    const summary = sources.previousElementSibling;
    expect(summary?.textContent).toContain("Content does not count in verdicts yet");
    expect([summary, sources].map((el) => (el ? getComputedStyle(el).display : null))).toEqual([
      "block",
      "block",
    ]);
  });

  it("is a plain notice once active, and says when it cannot tell phish from spam", async () => {
    mounted = await renderWithApp(
      <ClassifierStatus />,
      apiOver(fakeServer(() => json(200, TRAINED))),
      SECURITY_ADMIN,
    );
    const status = await waitFor(() => byTestId(mounted!.container, "classifier-status"));
    expect(status.getAttribute("data-intent")).toBe("info");
    expect(status.textContent).toContain("Content counts in verdicts. It has learnt 1,200 wanted messages");
    expect(status.textContent).toContain("(214,500 words and features, of at most 1,000,000 kept)");
    expect(status.textContent).toContain("It cannot tell phish from spam yet");
  });

  it("says so when the status cannot be read, and shows nothing to someone who may not read the policies", async () => {
    mounted = await renderWithApp(
      <ClassifierStatus />,
      apiOver(fakeServer(() => json(500, { error: "internal_error", message: "Something went wrong." }))),
      SECURITY_ADMIN,
    );
    const error = await waitFor(() => byTestId(mounted!.container, "classifier-error"));
    expect(error.textContent).toContain("Something went wrong.");
    await mounted.unmount();

    const fetchMock = fakeServer(() => json(200, TRAINED));
    mounted = await renderWithApp(<ClassifierStatus />, apiOver(fetchMock), AGENT);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(mounted.container.textContent).toBe("");
    expect(fetchMock).not.toHaveBeenCalled();
  });
});

describe("classifierSentence", () => {
  it("names only the side that still needs mail, and drops the phish note once it separates them", () => {
    expect(classifierSentence({ ...NEW, messages: { ham: 9, spam: 1, phish: 1 } })).toMatch(
      /^Content does not count in verdicts yet: the classifier needs 3 more spam or phish\. /,
    );
    expect(
      classifierSentence({ ...TRAINED, messages: { ham: 1200, spam: 900, phish: 40 }, separatesPhish: true }),
    ).not.toContain("phish from spam");
  });
});
