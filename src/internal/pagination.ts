/**
 * What to do after a page of `GET /tasks`: a pure decision on plain data, so that every loop over pages has
 * its bounds (a cursor seen before, a number of pages) in one place.
 *
 * @internal
 */

/**
 * The listing so far: the cursors already sent (each with the page that answered it, 1-based) and how many
 * pages were received.
 *
 * @internal
 */
export interface Progress {
  readonly seen: ReadonlyMap<string, number>
  readonly pages: number
}

/** @internal */
export type Next =
  | { readonly _tag: "Last" }
  | { readonly _tag: "Follow"; readonly cursor: string }
  /** The server answered a cursor it had already answered: following it would list the same pages forever. */
  | { readonly _tag: "Repeated"; readonly page: number; readonly firstSeenOn: number }
  /** More pages than the caller allows: a server inventing cursors forever. */
  | { readonly _tag: "TooManyPages"; readonly maxPages: number }

/**
 * The step after page number `progress.pages` (already counted), which said `has_next` and `search_after`.
 *
 * @internal
 */
export const next = (
  progress: Progress,
  page: { readonly has_next: boolean; readonly search_after: string | null },
  maxPages: number
): Next => {
  if (!page.has_next || page.search_after === null) return { _tag: "Last" }
  const firstSeenOn = progress.seen.get(page.search_after)
  if (firstSeenOn !== undefined) return { _tag: "Repeated", page: progress.pages, firstSeenOn }
  if (progress.pages >= maxPages) return { _tag: "TooManyPages", maxPages }
  return { _tag: "Follow", cursor: page.search_after }
}

/**
 * Why a listing ended early, for its `Decode` error. The cursor itself is not quoted: it is the server's text.
 *
 * @internal
 */
export const describe = (step: Extract<Next, { _tag: "Repeated" | "TooManyPages" }>): string =>
  step._tag === "Repeated"
    ? `TextReveal gave on page ${step.page} the search_after cursor it had already given on page ${step.firstSeenOn}: the listing would never end`
    : `TextReveal went on listing tasks for more than ${step.maxPages} pages (maxPages)`
