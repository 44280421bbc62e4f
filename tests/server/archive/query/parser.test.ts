import { describe, expect, it } from "vitest";
import { parseQuery, type QueryNode } from "../../../../server/archive/query";

const word = (value: string, position: number): QueryNode => ({ kind: "word", value, position });
const phrase = (value: string, position: number): QueryNode => ({ kind: "phrase", value, position });
const and = (...children: QueryNode[]): QueryNode => ({ kind: "and", children });
const or = (...children: QueryNode[]): QueryNode => ({ kind: "or", children });
const not = (child: QueryNode): QueryNode => ({ kind: "not", child });

describe("parseQuery: words, phrases and quoting", () => {
  it("answers null for an empty, blank or punctuation-only query (list everything)", () => {
    expect(parseQuery("")).toBeNull();
    expect(parseQuery("   \t ")).toBeNull();
    expect(parseQuery("& | -- ( )")).toBeNull();
  });

  it("parses one word with its position", () => {
    expect(parseQuery("  invoice")).toEqual(word("invoice", 2));
  });

  it("joins terms with an implicit AND", () => {
    expect(parseQuery("overdue invoice 42")).toEqual(
      and(word("overdue", 0), word("invoice", 8), word("42", 16)),
    );
  });

  it('keeps a quoted phrase together, with \\" and \\\\ escapes', () => {
    expect(parseQuery('"quarterly report"')).toEqual(phrase("quarterly report", 0));
    expect(parseQuery('"say \\"hi\\" now"')).toEqual(phrase('say "hi" now', 0));
    expect(parseQuery('"back\\\\slash"')).toEqual(phrase("back\\slash", 0));
    expect(parseQuery('"C:\\path"')).toEqual(phrase("C:\\path", 0));
  });

  it("ends a bare word at a quote, and a phrase at its closing quote", () => {
    expect(parseQuery('foo"bar baz"qux')).toEqual(and(word("foo", 0), phrase("bar baz", 3), word("qux", 12)));
  });

  it("drops an empty phrase and punctuation-only words but keeps the rest", () => {
    expect(parseQuery('"" invoice & !!')).toEqual(word("invoice", 3));
  });

  it("keeps words with inner hyphens, dots, @ and colons as one word", () => {
    expect(parseQuery("INV-2024-0042 alice@acme.example re:hello 10:30 https://x.example/a")).toEqual(
      and(
        word("INV-2024-0042", 0),
        word("alice@acme.example", 14),
        word("re:hello", 33),
        word("10:30", 42),
        word("https://x.example/a", 48),
      ),
    );
  });
});

describe("parseQuery: exclusion", () => {
  it("excludes a word, a phrase, a field and a group", () => {
    expect(parseQuery("-spam")).toEqual(not(word("spam", 1)));
    expect(parseQuery('-"quarterly report"')).toEqual(not(phrase("quarterly report", 1)));
    expect(parseQuery("-from:bob")).toEqual(
      not({ kind: "field", field: "from", value: "bob", quoted: false, position: 1 }),
    );
    expect(parseQuery("-(a OR b)")).toEqual(not(or(word("a", 2), word("b", 7))));
  });

  it("treats a hyphen that starts nothing as punctuation", () => {
    expect(parseQuery("invoice - march")).toEqual(and(word("invoice", 0), word("march", 10)));
  });

  it("cancels a double negation", () => {
    expect(parseQuery("--foo")).toEqual(word("foo", 2));
  });

  it("reads OR/AND right after '-' as a literal word", () => {
    expect(parseQuery("-OR")).toEqual(not(word("OR", 1)));
    expect(parseQuery("-AND x")).toEqual(and(not(word("AND", 1)), word("x", 5)));
  });
});

describe("parseQuery: OR, AND and precedence", () => {
  it("parses OR between two terms", () => {
    expect(parseQuery("lottery OR pills")).toEqual(or(word("lottery", 0), word("pills", 11)));
  });

  it("binds AND tighter than OR", () => {
    expect(parseQuery("a b OR c d")).toEqual(
      or(and(word("a", 0), word("b", 2)), and(word("c", 7), word("d", 9))),
    );
  });

  it("flattens chains of OR", () => {
    expect(parseQuery("a OR b OR c")).toEqual(or(word("a", 0), word("b", 5), word("c", 10)));
  });

  it("lets parentheses override precedence and nest", () => {
    expect(parseQuery("invoice (paid OR (late fee))")).toEqual(
      and(word("invoice", 0), or(word("paid", 9), and(word("late", 18), word("fee", 23)))),
    );
  });

  it("treats lowercase or/and as words and uppercase AND as an explicit conjunction", () => {
    expect(parseQuery("black or white")).toEqual(and(word("black", 0), word("or", 6), word("white", 9)));
    expect(parseQuery("a AND b")).toEqual(and(word("a", 0), word("b", 6)));
  });

  it("searches the literal word OR when quoted", () => {
    expect(parseQuery('"OR"')).toEqual(phrase("OR", 0));
  });

  it("ignores empty parentheses", () => {
    expect(parseQuery("a () b")).toEqual(and(word("a", 0), word("b", 5)));
  });
});

describe("parseQuery: fields", () => {
  it("parses from: to: cc: subject: attachment: with bare values", () => {
    expect(parseQuery("from:alice to:support cc:manager subject:invoice attachment:pdf")).toEqual(
      and(
        { kind: "field", field: "from", value: "alice", quoted: false, position: 0 },
        { kind: "field", field: "to", value: "support", quoted: false, position: 11 },
        { kind: "field", field: "cc", value: "manager", quoted: false, position: 22 },
        { kind: "field", field: "subject", value: "invoice", quoted: false, position: 33 },
        { kind: "field", field: "attachment", value: "pdf", quoted: false, position: 49 },
      ),
    );
  });

  it("takes quoted values with escapes", () => {
    expect(parseQuery('from:"Alice \\"Al\\" Cooper" x')).toEqual(
      and(
        { kind: "field", field: "from", value: 'Alice "Al" Cooper', quoted: true, position: 0 },
        word("x", 27),
      ),
    );
  });

  it("accepts field names in any case and values with colons", () => {
    expect(parseQuery("FROM:a:b")).toEqual({
      kind: "field",
      field: "from",
      value: "a:b",
      quoted: false,
      position: 0,
    });
  });

  it("parses has:attachment (and the plural)", () => {
    expect(parseQuery("has:attachment")).toEqual({ kind: "has_attachment", position: 0 });
    expect(parseQuery("has:Attachments")).toEqual({ kind: "has_attachment", position: 0 });
  });

  it("parses after:/before: with real dates, including a leap day", () => {
    expect(parseQuery("after:2024-02-29 before:2024-03-01")).toEqual(
      and(
        { kind: "date", bound: "after", date: "2024-02-29", position: 0 },
        { kind: "date", bound: "before", date: "2024-03-01", position: 17 },
      ),
    );
    expect(parseQuery('after:"2000-02-29"')).toEqual({
      kind: "date",
      bound: "after",
      date: "2000-02-29",
      position: 0,
    });
  });

  it("keeps unknown prefixes that look like text as words", () => {
    expect(parseQuery("ticket:4711 re:invoice")).toEqual(and(word("ticket:4711", 0), word("re:invoice", 12)));
  });
});

describe("parseQuery: Unicode", () => {
  it("parses umlauts, CJK and emoji as words with UTF-16 positions", () => {
    expect(parseQuery("über 日本語 😀 café")).toEqual(
      and(word("über", 0), word("日本語", 5), word("😀", 9), word("café", 12)),
    );
  });

  it("normalises decomposed characters to NFC", () => {
    expect(parseQuery("u\u0308ber")).toEqual(word("über", 0));
  });

  it("treats control characters (NUL, tab, NBSP, ideographic space) as separators", () => {
    expect(parseQuery("a\u0000b\u00a0c\u3000d")).toEqual(
      and(word("a", 0), word("b", 2), word("c", 4), word("d", 6)),
    );
  });

  it("replaces a lone surrogate with a separator instead of sending broken UTF-16 on", () => {
    expect(parseQuery("a\ud800b")).toEqual(and(word("a", 0), word("b", 2)));
  });

  it("parses Unicode inside phrases and field values", () => {
    expect(parseQuery('from:"Carol Müller" "日本語 テスト"')).toEqual(
      and(
        { kind: "field", field: "from", value: "Carol Müller", quoted: true, position: 0 },
        phrase("日本語 テスト", 20),
      ),
    );
  });
});
