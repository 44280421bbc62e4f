/**
 * The page parameters of every cursor-paged list, spread into its infinite query's options: the first page is asked
 * for without a cursor, and each next one with the `nextCursor` of the page before (none: the list is complete).
 */
export const cursorPaging = {
  initialPageParam: undefined as string | undefined,
  getNextPageParam: (page: { nextCursor?: string | null | undefined }): string | undefined =>
    page.nextCursor ?? undefined,
};
