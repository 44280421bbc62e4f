import { Button, Field, Input, makeStyles, Select, Text, tokens } from "@fluentui/react-components";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useRef, useState, type FormEvent } from "react";
import {
  HELD_REASONS,
  HELD_SORTS,
  HELD_STATUSES,
  type HeldReason,
  type HeldSort,
  type HeldStatus,
} from "../../../../shared/schemas/held";
import { REASON_LABELS, STATUS_LABELS } from "../../components/format";
import { EmptyState } from "../../components/states";
import { PagedList } from "../../components/PagedList";
import { useDetailFocus } from "../../components/useDetailFocus";
import { useApi, useApp } from "../../context";
import { HELD_FILTERS_AT_OPENING, heldListQuery, type HeldWhose } from "../../first-view-data";
import { HeldBulkBar } from "./HeldBulkBar";
import { HeldDetail } from "./HeldDetail";
import { HeldList } from "./HeldList";
import { emptyHeldText, SORT_LABELS, whoseOptions } from "./heldScopes";

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
  filters: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS, alignItems: "flex-end" },
  grow: { flexGrow: 1, minWidth: "140px" },
  heading: { ":focus-visible": { outline: `2px solid ${tokens.colorStrokeFocus2}` } },
});

/**
 * "Held": my held messages with filters, an order, a count, single and bulk actions, and a sandboxed preview; for a
 * team lead also their team's, and for a security admin (or someone granted `held.read_any`) everyone's (each row then
 * names whose it is).
 */
export function HeldView(props: { itemId?: string }) {
  const api = useApi();
  const { me } = useApp();
  const styles = useStyles();
  const whoseChoices = whoseOptions(me ?? { permissions: [], othersReach: null });
  const [whose, setWhose] = useState<HeldWhose>(HELD_FILTERS_AT_OPENING.whose);
  const [sort, setSort] = useState<HeldSort>(HELD_FILTERS_AT_OPENING.sort);
  const [status, setStatus] = useState<HeldStatus | "">(HELD_FILTERS_AT_OPENING.status);
  const [reason, setReason] = useState<HeldReason | "">(HELD_FILTERS_AT_OPENING.reason);
  const [search, setSearch] = useState("");
  const [q, setQ] = useState(HELD_FILTERS_AT_OPENING.q);
  const [recipientInput, setRecipientInput] = useState("");
  const [recipient, setRecipient] = useState(HELD_FILTERS_AT_OPENING.recipient);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const heading = useRef<HTMLHeadingElement>(null);
  // Back to the list focuses the row that was open (the heading once it left the list, e.g. released).
  const detail = useDetailFocus("held-open-", heading, props.itemId ?? null);
  const openId = detail.openId;

  const list = useInfiniteQuery(heldListQuery(api, { whose, status, reason, q, recipient, sort }));
  const items = list.data?.pages.flatMap((page) => page.items) ?? [];

  const applySearch = (event: FormEvent) => {
    event.preventDefault();
    setQ(search.trim());
    setRecipient(recipientInput.trim());
  };
  const toggle = (id: string, checked: boolean) => {
    const next = new Set(selected);
    if (checked) next.add(id);
    else next.delete(id);
    setSelected(next);
  };

  return (
    <div className={styles.layout}>
      <section className={`${styles.column} ${openId ? styles.hideNarrow : ""}`} aria-labelledby="held-title">
        <Text
          as="h2"
          size={400}
          weight="semibold"
          id="held-title"
          ref={heading}
          tabIndex={-1}
          className={styles.heading}
        >
          Held messages
        </Text>
        <form
          className={styles.filters}
          onSubmit={applySearch}
          role="search"
          aria-label="Filter held messages"
        >
          <Field label="Search" className={styles.grow}>
            <Input
              value={search}
              onChange={(_e, data) => setSearch(data.value)}
              placeholder="Sender or subject"
              data-testid="held-search"
            />
          </Field>
          {whoseChoices.length > 1 ? (
            <Field label="Whose">
              <Select
                value={whose}
                onChange={(_e, data) => setWhose(data.value as HeldWhose)}
                data-testid="held-whose"
              >
                {whoseChoices.map((choice) => (
                  <option key={choice.value} value={choice.value}>
                    {choice.label}
                  </option>
                ))}
              </Select>
            </Field>
          ) : null}
          {whose ? (
            <Field label="Recipient" className={styles.grow}>
              <Input
                type="email"
                value={recipientInput}
                onChange={(_e, data) => setRecipientInput(data.value)}
                placeholder="name@your-domain"
                data-testid="held-recipient-filter"
              />
            </Field>
          ) : null}
          <Field label="Status">
            <Select
              value={status}
              onChange={(_e, data) => setStatus(data.value as HeldStatus | "")}
              data-testid="held-status"
            >
              <option value="">All</option>
              {HELD_STATUSES.map((value) => (
                <option key={value} value={value}>
                  {STATUS_LABELS[value]}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Reason">
            <Select
              value={reason}
              onChange={(_e, data) => setReason(data.value as HeldReason | "")}
              data-testid="held-reason"
            >
              <option value="">All</option>
              {HELD_REASONS.map((value) => (
                <option key={value} value={value}>
                  {REASON_LABELS[value]}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Order">
            <Select
              value={sort}
              onChange={(_e, data) => setSort(data.value as HeldSort)}
              data-testid="held-sort"
            >
              {HELD_SORTS.map((value) => (
                <option key={value} value={value}>
                  {SORT_LABELS[value]}
                </option>
              ))}
            </Select>
          </Field>
          <Button type="submit">Search</Button>
        </form>
        <HeldBulkBar items={items} selected={selected} onSelectedChange={setSelected} />
        <PagedList
          query={list}
          loadingLabel="Loading held messages…"
          empty={{
            ...emptyHeldText(
              whose,
              status !== "held" || reason !== "" || q !== "" || (whose !== "" && recipient !== ""),
              me?.othersReach ?? null,
            ),
            testId: "held-empty",
          }}
        >
          {(loaded) => (
            <HeldList
              items={loaded}
              selectedIds={selected}
              openId={openId}
              onToggle={toggle}
              onOpen={detail.open}
              showRecipient={whose !== ""}
            />
          )}
        </PagedList>
      </section>
      <section className={`${styles.column} ${openId ? "" : styles.hideNarrow}`} aria-label="Message details">
        {openId ? (
          <HeldDetail key={openId} id={openId} onBack={detail.back} backClassName={styles.hideWide} />
        ) : (
          <EmptyState title="Select a message" hint="Its preview and actions appear here." />
        )}
      </section>
    </div>
  );
}
