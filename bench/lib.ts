/**
 * What every benchmark shares: a server in a child process, alternating rounds, and one row per measure:
 * the median ratio to its baseline with min-max, all measured in the same run.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { once } from "node:events"

export interface Row {
  readonly measure: string
  readonly baseline: string
  /** Median of the per-round ratios (ours / baseline; above 1 means ours is faster or smaller). */
  readonly ratio: number
  readonly min: number
  readonly max: number
  readonly target?: string
  readonly note?: string
}

/** Starts `node <script>` and waits for the port it prints on its first line. */
export const startServer = async (
  script: string,
  args: ReadonlyArray<string> = []
): Promise<{ readonly port: number; readonly child: ChildProcess }> => {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "inherit"] })
  const [chunk] = (await once(child.stdout!, "data")) as [Buffer]
  return { port: Number(chunk.toString().trim().split("\n")[0]), child }
}

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/**
 * Runs `ours` and `baseline` in alternating order for `rounds` rounds; each returns a measurement where
 * bigger is better (a throughput). The row holds the median of ours/baseline with its min and max.
 */
export const compare = async (
  rounds: number,
  ours: () => Promise<number>,
  baseline: () => Promise<number>
): Promise<{ readonly ratio: number; readonly min: number; readonly max: number }> => {
  const ratios: Array<number> = []
  for (let round = 0; round < rounds; round++) {
    let a: number
    let b: number
    if (round % 2 === 0) {
      a = await ours()
      b = await baseline()
    } else {
      b = await baseline()
      a = await ours()
    }
    ratios.push(a / b)
  }
  return { ratio: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) }
}

/** Calls per second of `call` run `total` times, at most `concurrency` at once. */
export const throughput = async (call: () => Promise<unknown>, total: number, concurrency: number) => {
  let next = 0
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next++ < total) await call()
  }))
  return total / ((performance.now() - start) / 1000)
}

export const formatTable = (rows: ReadonlyArray<Row>): string => {
  const lines = [
    "| measure | baseline | ratio (median) | min-max | target |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map((row) =>
      `| ${row.measure} | ${row.baseline} | ${row.ratio.toFixed(2)}x | ${row.min.toFixed(2)}-${row.max.toFixed(2)} | ${
        row.target ?? ""
      }${row.note === undefined ? "" : ` (${row.note})`} |`
    )
  ]
  return lines.join("\n")
}
