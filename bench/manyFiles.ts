/**
 * Many tiny files: `TaskResults.download` of 5000 files of 100 bytes at concurrency 4 beside a raw loop of
 * `undici.request` 4 at a time writing each body to its file, on the same static server in the same run, in
 * alternating rounds. What it measures is the cost per file (request, manifest, rename), not throughput in
 * bytes. Each side runs in a child process of its own (the children of `bench/download.ts`); the server is
 * another process.
 *
 *   npx tsx bench/manyFiles.ts [--quick]
 */
import type { ChildProcess } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import {
  alternate,
  benchFile,
  bundle,
  log,
  ratioRow,
  type Row,
  runChild,
  type Sample,
  startServer,
  stop,
  tmpWork,
  writeCsv
} from "./lib.js"

/** Bytes of each file. */
const fileBytes = 100
const concurrency = 4
/** Ours within 2x of the raw loop. */
const target = 0.5

/** The manifest's files in a download directory. */
const manifestNames = [".textreveal-manifest.json", ".textreveal-manifest.journal"]

export const run = async (options: { readonly quick: boolean }): Promise<ReadonlyArray<Row>> => {
  const { files, rounds } = options.quick ? { files: 1000, rounds: 1 } : { files: 5000, rounds: 3 }
  const work = tmpWork("many-files")
  let server: ChildProcess | undefined
  try {
    const source = path.join(work, "source.csv")
    writeCsv(source, 1)
    const expected = createHash("sha256").update(fs.readFileSync(source).subarray(0, fileBytes)).digest("hex")
    const [ours, raw] = await Promise.all([bundle("download-ours.ts"), bundle("children/raw-download.ts")])
    const started = await startServer(benchFile("servers/static.mjs"), [source])
    server = started.child
    const urls = Array.from(
      { length: files },
      (_, i) => `http://127.0.0.1:${started.port}/f-${i + 1}.csv?bytes=${fileBytes}&X-Amz-Signature=bench`
    )

    const outDir = path.join(work, "out")
    const fresh = () => {
      fs.rmSync(outDir, { recursive: true, force: true })
      fs.mkdirSync(outDir)
    }
    const filesPerSecond = (millis: number) => files / (millis / 1000)
    /** Bytes of the manifest's files left in the directory by each run of ours. */
    const manifestBytes: Array<number> = []

    const oursSide = async (): Promise<Sample> => {
      fresh()
      const { result } = await runChild(ours, [outDir, String(concurrency), ...urls])
      const downloaded = result.files as ReadonlyArray<{ readonly sha256: string; readonly bytes: number }>
      if (downloaded.length !== files || downloaded.some((f) => f.sha256 !== expected)) {
        throw new Error("many files: a file's sha256 differs from the source's")
      }
      manifestBytes.push(manifestNames.reduce((sum, name) => {
        const file = path.join(outDir, name)
        return sum + (fs.existsSync(file) ? fs.statSync(file).size : 0)
      }, 0))
      fresh()
      return { value: filesPerSecond(result.millis as number), rssMB: result.maxRssMB }
    }
    const rawSide = async (): Promise<Sample> => {
      fresh()
      const { result } = await runChild(raw, [outDir, String(concurrency), ...urls])
      const written = fs.readdirSync(outDir)
      if (written.length !== files || written.some((name) => fs.statSync(path.join(outDir, name)).size !== fileBytes)) {
        throw new Error(`many files: the raw loop wrote ${written.length} files, not ${files} of ${fileBytes} bytes`)
      }
      fresh()
      return { value: filesPerSecond(result.millis as number), rssMB: result.maxRssMB }
    }

    log(`many files: ${files} files of ${fileBytes} B at concurrency ${concurrency}, ${rounds} round(s)`)
    const samples = await alternate(rounds, { ours: oursSide, raw: rawSide })
    const row = ratioRow(samples.ours, samples.raw, "higher")
    const manifestKB = (Math.max(...manifestBytes) / 1000).toFixed(0)
    return [{
      measure: `\`download\`, ${files} files of ${fileBytes} B at concurrency ${concurrency} (files/s)`,
      baseline: `raw undici.request loop, ${concurrency} at a time, each body written to its file`,
      ...row,
      unit: "files/s",
      target: `>= ${target}x`,
      met: row.ratio >= target,
      note: `\`download\` also keeps its manifest (${manifestKB} kB at the end), hashes and renames each file`
    }]
  } finally {
    if (server !== undefined) await stop(server)
    fs.rmSync(work, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { formatTable } = await import("./lib.js")
  process.stdout.write(`${formatTable(await run({ quick: process.argv.includes("--quick") }))}\n`)
}
