import { useEffect, useRef, useState, type RefObject } from "react";

/** Which item of a list is open in the detail pane, and how it opens and closes (see useDetailFocus). */
export interface DetailFocus {
  openId: string | null;
  /** Opens an item (a row, a deep link, a message opened from the detail itself). */
  open(id: string): void;
  /** "Back to list": closes the detail and focuses the open item's row, or the list's heading once it left the list. */
  back(): void;
  /** Closes the detail without moving focus (a new search: the person is in the search box). */
  close(): void;
}

/**
 * A list with a detail pane (Held, Archive). Back to the list focuses the row of the item that was open (the element
 * whose id is `rowIdPrefix` and the item's id), or `heading` when that row is no longer listed (released, or opened
 * from a link),
 * so keyboard and screen-reader users continue where they were instead of from the top of the pane.
 */
export function useDetailFocus(
  rowIdPrefix: string,
  heading: RefObject<HTMLElement | null>,
  initialId: string | null = null,
): DetailFocus {
  const [openId, setOpenId] = useState<string | null>(initialId);
  const returnTo = useRef<string | null>(null);

  useEffect(() => {
    if (openId || !returnTo.current) return;
    (document.getElementById(`${rowIdPrefix}${returnTo.current}`) ?? heading.current)?.focus();
    returnTo.current = null;
  }, [openId, heading, rowIdPrefix]);

  return {
    openId,
    open: (id) => {
      returnTo.current = null;
      setOpenId(id);
    },
    back: () => {
      returnTo.current = openId;
      setOpenId(null);
    },
    close: () => {
      returnTo.current = null;
      setOpenId(null);
    },
  };
}
