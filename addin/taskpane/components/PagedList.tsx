import { Button } from "@fluentui/react-components";
import type { ReactNode } from "react";
import { EmptyState, ErrorState, LoadingState } from "./states";

/** What PagedList reads of an infinite query of `{ items }` pages (TanStack Query's result has it all). */
export interface PagedQuery<T> {
  data: { pages: ReadonlyArray<{ items: readonly T[] }> } | undefined;
  isPending: boolean;
  isError: boolean;
  isSuccess: boolean;
  error: unknown;
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  refetch: () => unknown;
  fetchNextPage: () => unknown;
}

/** How a PagedList says what it is doing. */
export interface PagedListProps<T> {
  query: PagedQuery<T>;
  loadingLabel: string;
  /** False while nothing has been asked yet (a search not run): no spinner for the idle query. */
  started?: boolean;
  empty: { title: string; hint?: string; testId: string };
  more?: { label: string; testId?: string };
  /** Renders the items loaded so far (never called with none). */
  children: (items: T[]) => ReactNode;
}

/**
 * The states every paged list of the task pane shows, in one place: loading, the error with a retry,
 * the empty state, the items, and the button for the next page.
 */
export function PagedList<T>(props: PagedListProps<T>) {
  const { query } = props;
  const items = query.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <>
      {(props.started ?? true) && query.isPending ? <LoadingState label={props.loadingLabel} /> : null}
      {query.isError ? <ErrorState error={query.error} onRetry={() => void query.refetch()} /> : null}
      {query.isSuccess && items.length === 0 ? (
        <EmptyState title={props.empty.title} hint={props.empty.hint} testId={props.empty.testId} />
      ) : null}
      {items.length > 0 ? props.children(items) : null}
      {query.hasNextPage ? (
        <Button
          onClick={() => void query.fetchNextPage()}
          disabled={query.isFetchingNextPage}
          data-testid={props.more?.testId}
        >
          {props.more?.label ?? "Load more"}
        </Button>
      ) : null}
    </>
  );
}
