import {
  Button,
  Field,
  Input,
  makeStyles,
  MessageBar,
  MessageBarBody,
  Select,
  Text,
  tokens,
} from "@fluentui/react-components";
import { useInfiniteQuery, useMutation } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import type { ArchiveHit, ArchiveSort } from "../../../../shared/schemas/archive";
import { asApiError } from "../../../api/errors";
import { formatDateTime } from "../../components/format";
import { saveFile } from "../../components/saveFile";
import { useDetailFocus } from "../../components/useDetailFocus";
import { EmptyState, ErrorState, LoadingState } from "../../components/states";
import { useApi, useCan } from "../../context";
import { ArchiveMessageView } from "./ArchiveMessageView";
import { buildArchiveQuery, highlightTerms, splitHighlights } from "./archiveQuery";
import { SearchHelp } from "./SearchHelp";
import { cursorPaging } from "../../cursor-paging";

const NARROW = "@media (max-width: 719px)";
const WIDE = "@media (min-width: 720px)";

const useStyles = makeStyles({
  layout: {
    display: "grid",
    gap: tokens.spacingHorizontalL,
    [WIDE]: { gridTemplateColumns: "minmax(280px, 2fr) 3fr" },
  },
  column: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS, minWidth: 0 },
  hideNarrow: { [NARROW]: { display: "none" } },
  hideWide: { [WIDE]: { display: "none" } },
  form: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS, alignItems: "flex-end" },
  grow: { flexGrow: 1, flexBasis: "100%" },
  list: { listStyle: "none", margin: 0, padding: 0 },
  hit: {
    display: "block",
    width: "100%",
    textAlign: "start",
    background: "none",
    border: "none",
    borderBottom: `1px solid ${tokens.colorNeutralStroke2}`,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalXS}`,
    color: "inherit",
    font: "inherit",
    cursor: "pointer",
    ":focus-visible": { outline: `2px solid ${tokens.colorStrokeFocus2}` },
  },
  line: { display: "block", overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
  // A snippet's long link (tracking links in bulk and phishing mail) breaks where it must, inside the result.
  snippet: { overflowWrap: "break-word" },
  heading: { ":focus-visible": { outline: `2px solid ${tokens.colorStrokeFocus2}` } },
});

/** The id of a result's button, where focus returns after "Back to results". */
const ROW_ID_PREFIX = "archive-open-";

function Hit(props: { hit: ArchiveHit; terms: string[]; open: boolean; onOpen: () => void }) {
  const styles = useStyles();
  const { hit } = props;
  return (
    <li data-testid="archive-result" data-archive-id={hit.id}>
      <button
        type="button"
        id={`${ROW_ID_PREFIX}${hit.id}`}
        className={styles.hit}
        onClick={props.onOpen}
        aria-current={props.open ? "true" : undefined}
      >
        <Text weight="semibold" className={styles.line}>
          {hit.subject || "(no subject)"}
        </Text>
        <Text size={200} className={styles.line}>
          {hit.from} · {formatDateTime(hit.date)}
          {hit.hasAttachments ? " · 📎" : ""}
        </Text>
        <Text size={200} block className={styles.snippet}>
          {splitHighlights(hit.snippet, props.terms).map((piece, index) =>
            piece.match ? <mark key={index}>{piece.text}</mark> : <span key={index}>{piece.text}</span>,
          )}
        </Text>
      </button>
    </li>
  );
}

/** "Archive": search my mail with the query language, date filters, snippets, the message view, and export. */
export function ArchiveView(props: { itemId?: string }) {
  const api = useApi();
  const styles = useStyles();
  const canExport = useCan("archive.export");
  const [typed, setTyped] = useState("");
  const [after, setAfter] = useState("");
  const [before, setBefore] = useState("");
  const [sort, setSort] = useState<ArchiveSort>("relevance");
  const [showHelp, setShowHelp] = useState(false);
  const [query, setQuery] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  // Back to the results focuses the result that was open (the heading when it is not among them).
  const detail = useDetailFocus(ROW_ID_PREFIX, heading, props.itemId ?? null);
  const openId = detail.openId;

  const results = useInfiniteQuery({
    queryKey: ["archive", "search", query, sort],
    queryFn: ({ pageParam }) => api.archive.search({ q: query ?? "", sort, cursor: pageParam, limit: 25 }),
    ...cursorPaging,
    enabled: query !== null,
  });
  const exportJob = useMutation({
    mutationFn: async () => {
      const file = await api.archive.export({ q: query ?? "" });
      saveFile(file.blob, file.filename);
      return file;
    },
  });
  const hits = results.data?.pages.flatMap((page) => page.items) ?? [];
  const terms = highlightTerms(query ?? "");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    detail.close();
    setQuery(buildArchiveQuery(typed, after, before));
  };

  return (
    <div className={styles.layout}>
      <section
        className={`${styles.column} ${openId ? styles.hideNarrow : ""}`}
        aria-labelledby="archive-title"
      >
        <Text
          as="h2"
          size={400}
          weight="semibold"
          id="archive-title"
          ref={heading}
          tabIndex={-1}
          className={styles.heading}
        >
          Archive
        </Text>
        <form className={styles.form} onSubmit={submit} role="search" aria-label="Search my archive">
          <Field
            label="Search"
            className={styles.grow}
            hint='Words, "phrases", -exclude, from:, subject:, has:attachment'
          >
            <Input
              value={typed}
              onChange={(_e, data) => setTyped(data.value)}
              placeholder='e.g. "wire transfer" from:bank.example'
              aria-describedby={showHelp ? "archive-help" : undefined}
              data-testid="archive-search-input"
            />
          </Field>
          <Field label="After">
            <Input
              type="date"
              value={after}
              onChange={(_e, data) => setAfter(data.value)}
              data-testid="archive-after"
            />
          </Field>
          <Field label="Before">
            <Input
              type="date"
              value={before}
              onChange={(_e, data) => setBefore(data.value)}
              data-testid="archive-before"
            />
          </Field>
          <Field label="Sort">
            <Select value={sort} onChange={(_e, data) => setSort(data.value as ArchiveSort)}>
              <option value="relevance">Best match</option>
              <option value="date">Newest first</option>
            </Select>
          </Field>
          <Button type="submit" appearance="primary" data-testid="archive-search-submit">
            Search
          </Button>
          <Button
            appearance="subtle"
            onClick={() => setShowHelp(!showHelp)}
            aria-expanded={showHelp}
            aria-controls="archive-help"
            data-testid="archive-help-toggle"
          >
            Syntax help
          </Button>
        </form>
        {showHelp ? <SearchHelp id="archive-help" /> : null}
        {canExport && query !== null && hits.length > 0 ? (
          <div>
            <Button
              size="small"
              onClick={() => exportJob.mutate()}
              disabled={exportJob.isPending}
              data-testid="archive-export"
            >
              Export these results
            </Button>
            {exportJob.data ? (
              <MessageBar intent="success" data-testid="archive-export-done">
                <MessageBarBody>
                  {exportJob.data.count === null
                    ? "Export downloaded"
                    : `${exportJob.data.count} message${exportJob.data.count === 1 ? "" : "s"} exported`}{" "}
                  as {exportJob.data.filename}.
                </MessageBarBody>
              </MessageBar>
            ) : null}
            {exportJob.isError ? <Text role="alert">{asApiError(exportJob.error).message}</Text> : null}
          </div>
        ) : null}
        {query === null ? (
          <EmptyState title="Search your mail" hint="Every message you sent or received is kept here." />
        ) : null}
        {results.isLoading ? <LoadingState label="Searching…" /> : null}
        {results.isError ? (
          <ErrorState
            error={results.error}
            title={asApiError(results.error).id === "invalid_query" ? "Check your search" : undefined}
            onRetry={
              asApiError(results.error).id === "invalid_query" ? undefined : () => void results.refetch()
            }
          />
        ) : null}
        {results.isSuccess && hits.length === 0 ? (
          <EmptyState testId="archive-empty" title="No messages match" />
        ) : null}
        {hits.length > 0 ? (
          <ul className={styles.list} aria-label="Search results" data-testid="archive-results">
            {hits.map((hit) => (
              <Hit
                key={hit.id}
                hit={hit}
                terms={terms}
                open={openId === hit.id}
                onOpen={() => detail.open(hit.id)}
              />
            ))}
          </ul>
        ) : null}
        {results.hasNextPage ? (
          <Button onClick={() => void results.fetchNextPage()} disabled={results.isFetchingNextPage}>
            More results
          </Button>
        ) : null}
      </section>
      <section className={`${styles.column} ${openId ? "" : styles.hideNarrow}`} aria-label="Message">
        {openId ? (
          <ArchiveMessageView
            key={openId}
            id={openId}
            onBack={detail.back}
            onOpen={detail.open}
            backClassName={styles.hideWide}
          />
        ) : (
          <EmptyState title="Select a result" hint="The message opens here." />
        )}
      </section>
    </div>
  );
}
