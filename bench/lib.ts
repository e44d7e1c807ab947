/**
 * What every benchmark shares: servers and sides in child processes, alternating rounds, and one row per
 * measure: the median ratio to its baseline with min-max, all measured in the same run.
 */
import type { Plugin } from "esbuild"
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export interface Row {
  readonly measure: string
  readonly baseline: string
  /**
   * Median of the per-round ratios. For speed: ours ÷ baseline in throughput (above 1: ours is faster). For
   * rows whose `unit` is `"MB"` (peak RSS): ours ÷ baseline in megabytes (below 1: ours is smaller).
   */
  readonly ratio: number
  readonly min: number
  readonly max: number
  /** Rounds measured (each side once per round). */
  readonly rounds?: number
  /** Median of ours and of the baseline in `unit` (e.g. `MB/s`, `calls/s`, `ms`, `MB`). */
  readonly ours?: number
  readonly base?: number
  readonly unit?: string
  /** Median peak RSS (MB, 10^6 bytes) of each side, when it ran in a process of its own. */
  readonly rssMB?: { readonly ours: number; readonly baseline?: number | undefined }
  readonly target?: string
  /** Whether the target is met, when there is one. */
  readonly met?: boolean
  readonly note?: string
}

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Median, min and max of a list of ratios. */
export const spread = (ratios: ReadonlyArray<number>) => ({
  ratio: median(ratios),
  min: Math.min(...ratios),
  max: Math.max(...ratios),
  rounds: ratios.length
})

/**
 * Runs `ours` and `baseline` in alternating order for `rounds` rounds; each returns a measurement where
 * bigger is better (a throughput). The row holds the median of ours/baseline with its min and max.
 */
export const compare = async (
  rounds: number,
  ours: () => Promise<number>,
  baseline: () => Promise<number>
): Promise<{ readonly ratio: number; readonly min: number; readonly max: number }> => {
  const samples = await alternate(rounds, { ours: () => ours().then(value), baseline: () => baseline().then(value) })
  return ratioRow(samples.ours, samples.baseline, "higher")
}

/** One measurement of one side: `value` (a throughput or a time) and the side's peak RSS when known. */
export interface Sample {
  readonly value: number
  readonly rssMB?: number | undefined
}

const value = (n: number): Sample => ({ value: n })

/**
 * Runs every side once per round, forward in even rounds and backward in odd ones, so that no side always
 * runs first (warm caches) or last (a tired machine). Gives each side's samples in round order.
 */
export const alternate = async <K extends string>(
  rounds: number,
  sides: Record<K, () => Promise<Sample>>,
  onRound?: (round: number) => void
): Promise<Record<K, Array<Sample>>> => {
  const names = Object.keys(sides) as Array<K>
  const samples = Object.fromEntries(names.map((name) => [name, []])) as unknown as Record<K, Array<Sample>>
  for (let round = 0; round < rounds; round++) {
    onRound?.(round)
    for (const name of round % 2 === 0 ? names : [...names].reverse()) samples[name].push(await sides[name]())
  }
  return samples
}

/**
 * The row numbers of `ours` against `baseline`, round by round: `"higher"` when a bigger value is better (a
 * throughput: ratio ours/baseline), `"lower"` when a smaller one is (a time: ratio baseline/ours); either way
 * a ratio above 1 means ours did better.
 */
export const ratioRow = (
  ours: ReadonlyArray<Sample>,
  baseline: ReadonlyArray<Sample>,
  better: "higher" | "lower"
) => {
  const ratios = ours.map((o, i) => better === "higher" ? o.value / baseline[i]!.value : baseline[i]!.value / o.value)
  const oursRss = ours.flatMap((s) => (s.rssMB === undefined ? [] : [s.rssMB]))
  const baseRss = baseline.flatMap((s) => (s.rssMB === undefined ? [] : [s.rssMB]))
  return {
    ...spread(ratios),
    ours: median(ours.map((s) => s.value)),
    base: median(baseline.map((s) => s.value)),
    ...(oursRss.length === 0 ? {} : {
      rssMB: { ours: median(oursRss), baseline: baseRss.length === 0 ? undefined : median(baseRss) }
    })
  }
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

// ---- processes

const children = new Set<ChildProcess>()
process.on("exit", () => {
  for (const child of children) child.kill()
})

/** Stops a server started here (SIGTERM; it is also killed when this process exits) and waits for its exit. */
export const stop = async (child: ChildProcess): Promise<void> => {
  children.delete(child)
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  child.kill()
  let timer: NodeJS.Timeout | undefined
  await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)))])
  clearTimeout(timer)
}

/**
 * Starts `node <script> [args]` and waits for the first line of its stdout that matches `pattern` (by default
 * a bare port number); gives the match and the child. The child is killed when this process exits.
 */
export const startProcess = (
  script: string,
  args: ReadonlyArray<string> = [],
  pattern: RegExp = /^(\d+)$/m
): Promise<{ readonly match: RegExpExecArray; readonly child: ChildProcess }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "inherit"] })
    children.add(child)
    let text = ""
    const onData = (data: Buffer) => {
      text += data
      const match = pattern.exec(text)
      if (match) {
        child.stdout!.off("data", onData)
        child.stdout!.resume()
        resolve({ match, child })
      }
    }
    child.stdout!.on("data", onData)
    child.on("exit", (code) =>
      reject(new Error(`${path.basename(script)} exited (${code}) before it was ready: ${text}`)))
  })

/** Starts `node <script>` and waits for the port it prints on its first line. */
export const startServer = async (
  script: string,
  args: ReadonlyArray<string> = []
): Promise<{ readonly port: number; readonly child: ChildProcess }> => {
  const { child, match } = await startProcess(script, args)
  return { port: Number(match[1]), child }
}

export interface ChildResult {
  /** From spawn to exit, as this process saw it. */
  readonly wallMs: number
  /** What the child printed after `RESULT `. */
  readonly result: Record<string, unknown> & { readonly maxRssMB: number }
}

/** Runs `node <script> [args]` to its end and parses the `RESULT` line it printed. */
export const runChild = (script: string, args: ReadonlyArray<string>): Promise<ChildResult> =>
  new Promise((resolve, reject) => {
    const start = process.hrtime.bigint()
    const child = spawn(process.execPath, [script, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    child.stdout.on("data", (data) => (out += data))
    child.stderr.on("data", (data) => (err += data))
    child.on("exit", (code) => {
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6
      const line = out.split("\n").find((l) => l.startsWith("RESULT "))
      if (code !== 0 || line === undefined) {
        reject(new Error(`${path.basename(script)} ${args.join(" ")} exited ${code}: ${(out + err).slice(-2000)}`))
      } else resolve({ wallMs, result: JSON.parse(line.slice(7)) })
    })
  })

/** `curl -s -o <out> <url>`: its own clock (`time_total`) and its peak RSS as `/usr/bin/time` measures it. */
export const curl = (url: string, out: string): { readonly millis: number; readonly maxRssMB?: number } => {
  const hasTime = fs.existsSync("/usr/bin/time")
  const args = ["-s", "-f", "-w", "TIME %{time_total}", "-o", out, url]
  const child = hasTime
    ? spawnSync("/usr/bin/time", ["-f", "RSS %M", "curl", ...args])
    : spawnSync("curl", args)
  if (child.status !== 0) throw new Error(`curl failed (${child.status}): ${child.stderr}`)
  const millis = Number(/TIME ([\d.]+)/.exec(String(child.stdout))?.[1]) * 1000
  const rssKiB = Number(/RSS (\d+)/.exec(String(child.stderr))?.[1])
  return Number.isNaN(rssKiB) ? { millis } : { millis, maxRssMB: (rssKiB * 1024) / 1e6 }
}

export const hasCurl = (): boolean => spawnSync("curl", ["--version"]).status === 0

// ---- bundles

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
/** Bundles and transpiled code live under the package's `node_modules`, so that packages resolve from them. */
export const cacheDir = path.join(root, "node_modules", ".cache", "effect-textreveal-bench")

/**
 * Bundles `bench/<entry>` into one `.mjs` run with plain `node` (no loader weighs on a side's time or memory);
 * packages stay external, loaded from `node_modules` as in a user's install. With `library` (the `index.js`
 * given by `transpileLibrary`), the library stays external too: the bundle imports it from there, file by
 * file, as a user imports the package.
 */
export const bundle = async (entry: string, options?: { readonly library?: string }): Promise<string> => {
  const esbuild = await import("esbuild")
  const library = options?.library
  const out = path.join(
    cacheDir,
    entry.replace(/[/\\]/g, "-").replace(/\.ts$/, library === undefined ? ".mjs" : ".lib.mjs")
  )
  await esbuild.build({
    plugins: library === undefined ? [] : [importLibraryFrom(path.dirname(library))],
    entryPoints: [path.join(root, "bench", entry)],
    outfile: out,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    tsconfig: path.join(root, "tsconfig.json"),
    logLevel: "error"
  })
  return out
}

/**
 * An esbuild plugin that leaves the library out of a bundle: imports of `src/...` are imported at run time
 * from `directory` (the package built file by file, `dist`'s shape), as a user's code imports the package.
 */
const importLibraryFrom = (directory: string): Plugin => ({
  name: "import-library",
  setup(build) {
    const src = path.join(root, "src")
    build.onResolve({ filter: /\/src\// }, (args) => {
      const relative = path.relative(src, path.resolve(args.resolveDir, args.path))
      return relative.startsWith("..") ? undefined : { path: path.join(directory, relative), external: true }
    })
  }
})

/**
 * `src` transpiled file by file (no bundling) into `dist`'s shape, as users import the package: gives the
 * path of its `index.js`.
 */
export const transpileLibrary = async (): Promise<string> => {
  const esbuild = await import("esbuild")
  const outdir = path.join(cacheDir, "lib")
  fs.rmSync(outdir, { recursive: true, force: true })
  await esbuild.build({
    entryPoints: [path.join(root, "src", "**", "*.ts")],
    outbase: path.join(root, "src"),
    outdir,
    bundle: false,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "error"
  })
  return path.join(outdir, "index.js")
}

export const benchFile = (name: string): string => path.join(root, "bench", name)

// ---- data

export const MiB = 1024 * 1024

/**
 * Writes `mib` MiB of CSV: a header, then records of a news export (quoted titles with commas, a quoted
 * text, every 40th with an escaped quote and a line break inside). Every MiB ends at the end of a record,
 * so that any whole number of MiB from the start is a CSV file of its own. Gives the number of records and
 * the SHA-256 of the prefixes asked for (in MiB).
 */
export const writeCsv = (
  file: string,
  mib: number,
  digestsAt: ReadonlyArray<number> = []
): { readonly recordsAt: (mib: number) => number; readonly sha256At: ReadonlyMap<number, string> } => {
  const header = "id,published_at,source,title,url,sentiment,text\n"
  const blocks: Array<{ readonly bytes: Buffer; readonly records: number }> = []
  // Block 0 (with the header) first, then eight distinct blocks, cycled: ids and dates change from block to
  // block.
  for (let b = 0; b < 9; b++) {
    let text = b === 0 ? header : ""
    let length = text.length
    let records = 0
    const record = (i: number, filler = "") => {
      const n = b * 100_000 + i
      const quoted = i % 40 === 0 ? " He said \"\"yes\"\".\nThen he left." : ""
      return `${n},2024-0${(n % 9) + 1}-1${n % 10}T08:${String(n % 60).padStart(2, "0")}:00Z,Reuters,` +
        `"Company ${n % 977} reports, again",https://news.example.com/a/${n}.html,${((n % 200) - 100) / 100},` +
        `"Lorem ipsum dolor sit amet, consectetur adipiscing elit ${n}.${quoted}${filler}"\n`
    }
    // ASCII only: characters are bytes.
    for (;;) {
      const next = record(records)
      if (length + next.length + 200 > MiB) break
      text += next
      length += next.length
      records++
    }
    const last = record(records)
    text += record(records, "x".repeat(MiB - length - last.length))
    records++
    const bytes = Buffer.from(text, "latin1")
    if (bytes.length !== MiB || Buffer.byteLength(text) !== MiB) throw new Error(`block of ${bytes.length} bytes`)
    blocks.push({ bytes, records })
  }
  const blockAt = (i: number) => (i === 0 ? 0 : 1 + ((i - 1) % (blocks.length - 1)))
  const hash = createHash("sha256")
  const sha256At = new Map<number, string>()
  const fd = fs.openSync(file, "w")
  try {
    for (let i = 0; i < mib; i++) {
      const block = blocks[blockAt(i)]!.bytes
      fs.writeSync(fd, block)
      if (digestsAt.length > 0) {
        hash.update(block)
        if (digestsAt.includes(i + 1)) sha256At.set(i + 1, hash.copy().digest("hex"))
      }
    }
  } finally {
    fs.closeSync(fd)
  }
  const recordsAt = (n: number) => {
    let total = 0
    for (let i = 0; i < n; i++) total += blocks[blockAt(i)]!.records
    return total
  }
  return { recordsAt, sha256At }
}

/** Free bytes on the file system of `directory`. */
export const freeBytes = (directory: string): number => {
  const stats = fs.statfsSync(directory)
  return stats.bavail * stats.bsize
}

export const tmpWork = (prefix: string): string => fs.mkdtempSync(path.join(os.tmpdir(), `textreveal-bench-${prefix}-`))

export const log = (message: string): void => {
  process.stderr.write(`[bench] ${message}\n`)
}

// ---- output

const fixed = (n: number, digits = 2) => (Number.isNaN(n) ? "-" : n.toFixed(digits))

const amount = (n: number): string =>
  n >= 100_000 ? `${Math.round(n / 1000)}k` : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)

export const formatTable = (rows: ReadonlyArray<Row>): string => {
  const lines = [
    "| measure | baseline | ratio (median) | min-max | ours / baseline | peak RSS MB ours / baseline | rounds | target |",
    "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map((row) => {
      const values = row.ours === undefined || row.base === undefined
        ? ""
        : `${amount(row.ours)} / ${amount(row.base)}${row.unit === undefined ? "" : ` ${row.unit}`}`
      const rss = row.rssMB === undefined
        ? ""
        : `${row.rssMB.ours.toFixed(0)} / ${row.rssMB.baseline === undefined ? "-" : row.rssMB.baseline.toFixed(0)}`
      const target = row.target === undefined
        ? ""
        : `${row.target}${row.met === undefined ? "" : row.met ? ": met" : ": **missed**"}`
      const note = row.note === undefined ? "" : ` (${row.note})`
      return `| ${row.measure}${note} | ${row.baseline} | ${Number.isNaN(row.ratio) ? "-" : `${fixed(row.ratio)}x`} | ${
        fixed(row.min)
      }-${fixed(row.max)} | ${values} | ${rss} | ${row.rounds ?? ""} | ${target} |`
    })
  ]
  return lines.join("\n")
}
