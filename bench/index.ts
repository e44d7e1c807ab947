/**
 * Every benchmark, one table of ratios against baselines measured side by side in this run.
 *
 *   npm run bench                       the table, as markdown, on stdout (progress on stderr)
 *   npm run -s bench -- --json          the same rows as JSON on stdout (`-s`: without npm's banner)
 *   npm run bench -- --json out.json    the same JSON into a file (the table still on stdout)
 *   npm run bench -- --quick            fewer rounds and smaller files (a smoke run)
 *   npm run bench -- --rows-mib 1024    `rows` over 1 GiB of CSV (default 64 MiB: the parser is slow here)
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as ColdStart from "./coldStart.js"
import * as Download from "./download.js"
import * as DownloadUrls from "./downloadUrls.js"
import { formatTable, log, type Row } from "./lib.js"
import * as Rows from "./rows.js"

const args = process.argv.slice(2)
const quick = args.includes("--quick")
const json = args.includes("--json")
const jsonNext = args[args.indexOf("--json") + 1]
const jsonFile = json && jsonNext !== undefined && !jsonNext.startsWith("--") ? jsonNext : undefined
const rowsAt = args.indexOf("--rows-mib")
const rowsMiB = rowsAt === -1 ? undefined : Number(args[rowsAt + 1])
if (rowsMiB !== undefined && !(Number.isInteger(rowsMiB) && rowsMiB > 0)) {
  process.stderr.write("--rows-mib takes a whole number of MiB\n")
  process.exit(2)
}

interface Bench {
  readonly name: string
  readonly run: (options: { readonly quick: boolean }) => Promise<ReadonlyArray<Row>>
}

/** `bench/cliStartup.ts`, when it exists (it is another piece of work): `CLI --help` against `node -e 0`. */
const cliStartup = async (): Promise<Bench | undefined> => {
  if (!fs.existsSync(new URL("./cliStartup.ts", import.meta.url))) return undefined
  const specifier = "./cliStartup.js"
  const module = (await import(specifier)) as { readonly run?: Bench["run"] }
  return typeof module.run === "function" ? { name: "CLI start-up", run: module.run } : undefined
}

const benches: Array<Bench> = [
  { name: "getDownloadUrls", run: DownloadUrls.run },
  { name: "cold start", run: ColdStart.run },
  { name: "download", run: Download.run },
  { name: "many files", run: async (options) => (await import("./manyFiles.js")).run(options) },
  { name: "gzip", run: async (options) => (await import("./gzipBomb.js")).run(options) },
  { name: "rows", run: (options) => Rows.run({ ...options, mib: rowsMiB }) }
]
const cli = await cliStartup().catch((error) => {
  log(`bench/cliStartup.ts could not be loaded: ${String(error)}`)
  return undefined
})
if (cli !== undefined) benches.push(cli)

const date = new Date()
const [load1] = os.loadavg()
const machine = {
  cores: os.cpus().length,
  cpu: os.cpus()[0]?.model.trim() ?? "unknown",
  memoryGB: Math.round(os.totalmem() / 1e9),
  node: process.version,
  platform: `${os.platform()} ${os.arch()}`,
  loadAverageAtStart: Number(load1!.toFixed(2))
}
const command = `npm run bench${args.length > 0 ? ` -- ${args.join(" ")}` : ""}`
const start = performance.now()
const rows: Array<Row> = []
const failures: Array<{ readonly bench: string; readonly error: string }> = []
for (const bench of benches) {
  const benchStart = performance.now()
  try {
    rows.push(...(await bench.run({ quick })))
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    failures.push({ bench: bench.name, error: message })
    log(`${bench.name} failed: ${message}`)
  }
  log(`${bench.name}: ${((performance.now() - benchStart) / 1000).toFixed(0)} s`)
}
if (cli === undefined) {
  failures.push({ bench: "CLI start-up", error: "bench/cliStartup.ts is not there yet: no `--help` row" })
}
const totalSeconds = Math.round((performance.now() - start) / 1000)

const asJson = `${
  JSON.stringify({ date: date.toISOString(), machine, command, totalSeconds, quick, rows, failures }, null, 2)
}\n`
if (jsonFile !== undefined) {
  fs.writeFileSync(jsonFile, asJson)
  log(`JSON written to ${jsonFile}`)
}
if (json && jsonFile === undefined) {
  process.stdout.write(asJson)
} else {
  const minutes = `${Math.floor(totalSeconds / 60)} min ${totalSeconds % 60} s`
  const lines = [
    formatTable(rows),
    "",
    "Ratio: ours ÷ baseline, the median of the per-round ratios (min-max beside it); for speed above 1 means ours is",
    "faster (throughput, or the inverse of a time), for rows in MB (peak RSS) below 1 means ours is smaller. Each",
    "round runs every side once, in alternating order. Peak RSS: each side in a process of its own (MB = 10^6 bytes).",
    ...failures.map((f) => `\nNot measured: ${f.bench}: ${f.error}`),
    "",
    `${
      date.toISOString().slice(0, 10)
    }; ${machine.cores} cores (${machine.cpu}), ${machine.memoryGB} GB, Node ${machine.node}, ${machine.platform}; load average ${machine.loadAverageAtStart} at start`,
    `\`${command}\`${quick ? " (quick: a smoke run, not a measurement)" : ""}; ${minutes}`
  ]
  process.stdout.write(`${lines.join("\n")}\n`)
}
