/**
 * Gzip decompression: `maybeGunzip` (the step `rows` reads every file through) beside Node's own
 * `pipeline(source, zlib.createGunzip(), sink)`, both ending in the same newline count, on the same bytes cut
 * into 64 KiB chunks as a body arrives. Two files: a gzip bomb (1 GiB of "1\n" in about 1 MB, where a 64 KiB
 * chunk inflates to about 64 MiB) for peak RSS, and a CSV.gz for speed. Each side runs in a child process of
 * its own (its peak RSS is its own); the zlib side loads no Effect code.
 *
 *   npx tsx bench/gzipBomb.ts [--quick]
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Readable, Writable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { fileURLToPath } from "node:url"
import * as Zlib from "node:zlib"
import {
  alternate,
  bundle,
  cacheDir,
  log,
  MiB,
  ratioRow,
  type Row,
  runChild,
  type Sample,
  tmpWork,
  transpileLibrary,
  writeCsv
} from "./lib.js"

/** Peak RSS allowed to `maybeGunzip` over the bomb, in MB (10^6 bytes). */
const rssTargetMB = 300
const chunkBytes = 64 * 1024

/** Newlines in `bytes`: the same loop on both sides. */
const countLines = (bytes: Uint8Array): number => {
  let lines = 0
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 10) lines++
  return lines
}

/** `mib` MiB of "1\n" as one gzip member, written once into the bench cache. */
const bombFile = async (mib: number): Promise<string> => {
  const file = path.join(cacheDir, `bomb-${mib}MiB.gz`)
  if (fs.existsSync(file)) return file
  fs.mkdirSync(cacheDir, { recursive: true })
  const line = Buffer.alloc(MiB, "1\n")
  await pipeline(
    Readable.from((function*() {
      for (let i = 0; i < mib; i++) yield line
    })()),
    Zlib.createGzip({ level: 9 }),
    fs.createWriteStream(`${file}.part`)
  )
  fs.renameSync(`${file}.part`, file)
  return file
}

/** The chunks a body of `file` would arrive in. */
const chunksOf = (file: string): Array<Uint8Array> => {
  const bytes = fs.readFileSync(file)
  const chunks: Array<Uint8Array> = []
  for (let at = 0; at < bytes.length; at += chunkBytes) chunks.push(bytes.subarray(at, at + chunkBytes))
  return chunks
}

/**
 * A measured side, in this file's bundle run as a child: `--side ours|zlib|zlib64k <file> <library index.js>`
 * (`zlib64k`: zlib's output buffer as large as `maybeGunzip`'s, 64 KiB instead of its default 16 KiB).
 */
const side = async (name: string, file: string, library: string | undefined): Promise<void> => {
  const chunks = chunksOf(file)
  let lines = 0
  let start: bigint
  if (name !== "ours") {
    start = process.hrtime.bigint()
    await pipeline(
      Readable.from(chunks),
      Zlib.createGunzip(name === "zlib64k" ? { chunkSize: 64 * 1024 } : {}),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          lines += countLines(chunk)
          callback()
        }
      })
    )
  } else {
    const Effect = await import("effect/Effect")
    const Stream = await import("effect/Stream")
    const gzipModule = path.join(path.dirname(library!), "internal", "taskResults", "gzip.js")
    const { maybeGunzip } = (await import(gzipModule)) as typeof import("../src/internal/taskResults/gzip.js")
    start = process.hrtime.bigint()
    lines = await Effect.runPromise(
      Stream.fromIterable(chunks).pipe(
        maybeGunzip("bench.csv.gz"),
        Stream.runFold(0, (n, bytes: Uint8Array) => n + countLines(bytes))
      )
    )
  }
  const millis = Number(process.hrtime.bigint() - start) / 1e6
  const maxRssMB = (process.resourceUsage().maxRSS * 1024) / 1e6
  process.stdout.write(`RESULT ${JSON.stringify({ millis, lines, maxRssMB })}\n`)
}

export const run = async (options: { readonly quick: boolean }): Promise<ReadonlyArray<Row>> => {
  const bombMiB = options.quick ? 256 : 1024
  const csvMiB = options.quick ? 16 : 64
  const rounds = options.quick ? 1 : 5
  const work = tmpWork("gzip")
  try {
    const [script, library, bomb] = await Promise.all([
      bundle("gzipBomb.ts"),
      transpileLibrary(),
      bombFile(bombMiB)
    ])
    const csvFile = path.join(work, "rows.csv")
    writeCsv(csvFile, csvMiB)
    const csvGz = `${csvFile}.gz`
    await pipeline(fs.createReadStream(csvFile), Zlib.createGzip(), fs.createWriteStream(csvGz))
    const csvBytes = fs.statSync(csvFile).size
    fs.rmSync(csvFile)

    const measure = async (file: string, lines: number, bytes: number) => {
      const sideOf = (name: string) => async (): Promise<Sample> => {
        const { result } = await runChild(script, ["--side", name, file, library])
        if (result.lines !== lines) throw new Error(`${name} counted ${result.lines} lines, not ${lines}`)
        return { value: bytes / 1e6 / ((result.millis as number) / 1000), rssMB: result.maxRssMB }
      }
      const samples = await alternate(rounds, {
        ours: sideOf("ours"),
        zlib: sideOf("zlib"),
        zlib64k: sideOf("zlib64k")
      })
      return {
        zlib: ratioRow(samples.ours, samples.zlib, "higher"),
        zlib64k: ratioRow(samples.ours, samples.zlib64k, "higher")
      }
    }

    log(`gzip: a ${bombMiB} MiB bomb (${fs.statSync(bomb).size} bytes of gzip), ${rounds} round(s)`)
    const bombRow = await measure(bomb, (bombMiB * MiB) / 2, bombMiB * MiB)
    log(`gzip: a ${csvMiB} MiB CSV (${fs.statSync(csvGz).size} bytes of gzip), ${rounds} round(s)`)
    // A record may hold a line break inside quotes: count the lines of the file itself.
    const csvLines = countLines(Zlib.gunzipSync(fs.readFileSync(csvGz)))
    const csvRow = await measure(csvGz, csvLines, csvBytes)

    const baseline = "`zlib.createGunzip()` in `pipeline`, same chunks, same line count"
    const baseline64k = "the same with `{ chunkSize: 64 KiB }` (as `maybeGunzip`)"
    const bombRss = bombRow.zlib.rssMB?.ours ?? Number.NaN
    const bombMeasure = `\`maybeGunzip\` of a gzip bomb: ${bombMiB} MiB of "1\\n" in ${
      (fs.statSync(bomb).size / 1e6).toFixed(1)
    } MB, 64 KiB chunks (MB/s out)`
    const csvMeasure = `\`maybeGunzip\` of a ${csvMiB} MiB CSV.gz, 64 KiB chunks (MB/s out)`
    return [
      {
        measure: bombMeasure,
        baseline,
        ...bombRow.zlib,
        unit: "MB/s",
        target: `peak RSS < ${rssTargetMB} MB`,
        met: bombRss < rssTargetMB
      },
      { measure: bombMeasure, baseline: baseline64k, ...bombRow.zlib64k, unit: "MB/s" },
      { measure: csvMeasure, baseline, ...csvRow.zlib, unit: "MB/s", target: ">= 0.8x", met: csvRow.zlib.ratio >= 0.8 },
      { measure: csvMeasure, baseline: baseline64k, ...csvRow.zlib64k, unit: "MB/s" }
    ]
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

const at = process.argv.indexOf("--side")
if (at !== -1) {
  await side(process.argv[at + 1]!, process.argv[at + 2]!, process.argv[at + 3])
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { formatTable } = await import("./lib.js")
  process.stdout.write(`${formatTable(await run({ quick: process.argv.includes("--quick") }))}\n`)
}
