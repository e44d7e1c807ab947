import { performance } from "node:perf_hooks"

/**
 * What a measured child prints on one line of stdout: `RESULT {json}`, with its peak RSS in MB (10^6 bytes),
 * the CPU time of the process (user + system, all threads) and the time its main thread was busy (the event
 * loop not waiting), in ms. No Effect code: the raw sides import this too.
 */
export const report = (result: Record<string, unknown>): void => {
  const usage = process.resourceUsage()
  const maxRssMB = (usage.maxRSS * 1024) / 1e6
  const cpuMs = (usage.userCPUTime + usage.systemCPUTime) / 1000
  const mainBusyMs = performance.eventLoopUtilization().active
  process.stdout.write(`RESULT ${JSON.stringify({ ...result, maxRssMB, cpuMs, mainBusyMs })}\n`)
}

/** CPU milliseconds (user + system, all threads) since `start` (from `process.cpuUsage()`): the run's, not the start-up's. */
export const cpuSince = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}

/** Milliseconds since `start` (from `process.hrtime.bigint()`). */
export const since = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1e6

/** The last path segment of a URL: the file name both sides write. */
export const nameOf = (url: string): string => decodeURIComponent(new URL(url).pathname.split("/").pop()!)
