import { describe, expect, it } from "vitest";
import { impersonationSignals, nameWords, readsAs } from "../../../../server/mail/scan/impersonation";
import type { TenantContext } from "../../../../server/mail/scan/types";
import { TENANT } from "./support/messages";

type Person = TenantContext["people"][number];

const FIRST = [
  "Jane",
  "María José",
  "Victor",
  "R",
  "Marc",
  "O'Brien",
  "Ann",
  "Li",
  "Vvonne",
  "Clara",
  "J.",
  "Zoë",
];
const LAST = [
  "Doe",
  "Nash",
  "Lewis",
  "García",
  "Smith",
  "Lee",
  "Nguyen",
  "Van Der Berg",
  "Al",
  "Clarke",
  "rnoore",
];

/** A tenant of every first-last pair, listed in a fixed shuffled order, some names twice under other addresses. */
function people(): Person[] {
  const list: Person[] = [];
  for (const first of FIRST)
    for (const last of LAST)
      list.push({ displayName: `${first} ${last}`, email: `${list.length}@contoso.com` });
  const shuffled = list.map((p, i) => ({ p, k: (i * 7919) % list.length })).sort((a, b) => a.k - b.k);
  const twice = shuffled.slice(0, 10).map(({ p }, i) => ({ ...p, email: `again${i}@contoso.com` }));
  return [...shuffled.map(({ p }) => p), ...twice];
}

/** What the index must answer: the first person in the list whose distinctive name the shown name reads as. */
function firstReadAs(list: readonly Person[], shown: string): string | undefined {
  const words = nameWords(shown);
  return list.find((p) => {
    const theirs = nameWords(p.displayName);
    const letters = theirs.words.join("").length;
    const distinctive =
      (theirs.words.length >= 2 && letters >= 5) || (theirs.words.length === 1 && letters >= 8);
    return distinctive && readsAs(words, theirs);
  })?.displayName;
}

/** Shown names a forger would write for a person: the name run together, reordered, cased, with look-alikes. */
function forgeries(name: string): string[] {
  const words = name.split(" ");
  return [
    name,
    words.join(""),
    [...words].reverse().join(""),
    [...words].reverse().join(" "),
    words.join("").toUpperCase(),
    words.join("\u2063"),
    `${words[0]} ${words.slice(1).join("")}`,
    words.join("").replace(/m/g, "rn"),
    `${words.join("")}x`,
  ];
}

describe("the colleague index", () => {
  it("names the same colleague as a search of the whole list in its order, for every forgery of every name", () => {
    const list = people();
    const tenant: TenantContext = { ...TENANT, people: list };
    const shownNames = [...new Set(list.flatMap((p) => forgeries(p.displayName)))];
    expect(shownNames.length).toBeGreaterThan(900);
    let flaggedCount = 0;
    for (const shown of shownNames) {
      const expected = firstReadAs(list, shown);
      const signal = impersonationSignals(
        { displayName: shown, address: "x@evil.example", domain: "evil.example" },
        tenant,
      ).find((s) => s.id === "impersonation.display_name");
      const named = signal ? /name of (.*), who works here/.exec(signal.label)?.[1] : undefined;
      expect(named, JSON.stringify(shown)).toBe(expected);
      if (named) flaggedCount += 1;
    }
    expect(flaggedCount).toBeGreaterThan(500);
  });

  it("answers the colleague listed first when the name reads as two, one word for word and one run together", () => {
    const from = { displayName: "AnnMarie Lee", address: "x@evil.example", domain: "evil.example" };
    const named = (list: Person[]) =>
      impersonationSignals(from, { ...TENANT, people: list }).map(
        (s) => /name of (.*), who/.exec(s.label)?.[1],
      );
    const threeWords = { displayName: "Ann Marie Lee", email: "aml@contoso.com" };
    const twoWords = { displayName: "AnnMarie Lee", email: "annmarie@contoso.com" };
    expect(named([threeWords, twoWords])).toEqual(["Ann Marie Lee"]);
    expect(named([twoWords, threeWords])).toEqual(["AnnMarie Lee"]);
  });

  it("is built again for a new list of people, so a colleague added since is found", () => {
    const before: TenantContext = {
      ...TENANT,
      people: [{ displayName: "Jane Doe", email: "jane@contoso.com" }],
    };
    const from = { displayName: "VictorNash", address: "x@evil.example", domain: "evil.example" };
    expect(impersonationSignals(from, before)).toEqual([]);
    const after: TenantContext = {
      ...before,
      people: [...before.people, { displayName: "Victor Nash", email: "victor@contoso.com" }],
    };
    expect(impersonationSignals(from, after).map((s) => s.id)).toEqual(["impersonation.display_name"]);
  });
});
