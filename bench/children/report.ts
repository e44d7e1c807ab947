/**
 * What a measured child prints on one line of stdout: `RESULT {json}`, with its peak RSS in MB (10^6 bytes).
 * No Effect code: the raw sides import this too.
 */
export const report = (result: Record<string, unknown>): void => {
  const maxRssMB = (process.resourceUsage().maxRSS * 1024) / 1e6
  process.stdout.write(`RESULT ${JSON.stringify({ ...result, maxRssMB })}\n`)
}

/** Milliseconds since `start` (from `process.hrtime.bigint()`). */
export const since = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6

/** The last path segment of a URL: the file name both sides write. */
export const nameOf = (url: string): string => decodeURIComponent(new URL(url).pathname.split("/").pop()!)
