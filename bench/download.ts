/**
 * Files to disk: `TaskResults.download` beside two raw Node pipelines (`undici.request` body piped into
 * `fs.createWriteStream`, with and without a SHA-256 `createHash` updated inline: `download` hashes every
 * byte), the bare platform `HttpClient` with the same hash and batched writes (what Effect's client costs
 * before any library code) and `curl -o` when installed, one file at 256 MiB / 1 GiB / 4 GiB (less when the
 * disk is short), and 8 files at concurrency 4, on the same static server in the same run, in alternating
 * rounds. Each side runs in a child process of its own (its peak RSS is its own), run with plain `node`: the
 * raw sides load no Effect code; the `download` side imports the library as users do, the package built file
 * by file (`transpileLibrary`), not bundled into it.
 * The server is another process, serving one generated CSV file from disk (prefixes of it for the smaller
 * sizes), synced to disk before the first round. Also: the sandbox's file host against that static server,
 * by `curl`.
 *
 *   npx tsx bench/download.ts [--quick]
 */
import { type ChildProcess, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import {
  alternate,
  benchFile,
  bundle,
  curl,
  freeBytes,
  hasCurl,
  log,
  median,
  MiB,
  ratioRow,
  type Row,
  runChild,
  type Sample,
  startProcess,
  startServer,
  stop,
  tmpWork,
  transpileLibrary,
  writeCsv
} from "./lib.js"

/** Peak RSS target of `download`, in MB (10^6 bytes). */
const rssTargetMB = 150
/** Speed targets of `download`: against the raw pipeline that hashes too, and against the one that does not. */
const vsHashingTarget = 1.0
const vsPlainTarget = 0.9
/** Flat: the largest size's peak RSS at most this times the smallest's. */
const flatFactor = 1.1

const sizeLabel = (mib: number) => (mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`)

export const run = async (options: { readonly quick: boolean }): Promise<ReadonlyArray<Row>> => {
  const notes: Array<string> = []
  let sizes: ReadonlyArray<{ readonly mib: number; readonly rounds: number }> = options.quick
    ? [{ mib: 32, rounds: 1 }, { mib: 64, rounds: 1 }, { mib: 128, rounds: 1 }]
    : [{ mib: 256, rounds: 3 }, { mib: 1024, rounds: 2 }, { mib: 4096, rounds: 1 }]
  const many = options.quick ? { files: 8, mib: 8, rounds: 1 } : { files: 8, mib: 32, rounds: 3 }
  const sandboxMiB = options.quick ? 32 : 256

  // The source file plus one side's copy at a time must fit, with room to spare.
  const free = freeBytes(os.tmpdir())
  const largest = sizes[sizes.length - 1]!.mib
  const fits = (mib: number) => free > 2.5 * mib * MiB
  if (!fits(largest)) {
    const fallback = [2048, 1024, 256].find(fits) ?? 256
    notes.push(
      `only ${(free / 1e9).toFixed(1)} GB free in ${os.tmpdir()}: largest size reduced from ${sizeLabel(largest)} to ${
        sizeLabel(fallback)
      }`
    )
    sizes = sizes.filter((s) => s.mib < fallback).concat({ mib: fallback, rounds: 1 })
  }
  const sourceMiB = Math.max(sizes[sizes.length - 1]!.mib, many.mib, sandboxMiB + 16)

  const work = tmpWork("download")
  const servers: Array<ChildProcess> = []
  try {
    const source = path.join(work, "source.csv")
    log(`download: writing ${sizeLabel(sourceMiB)} of CSV to ${source}`)
    const { sha256At } = writeCsv(source, sourceMiB, [...sizes.map((s) => s.mib), many.mib])
    // Its dirty pages written back now, not during the first rounds.
    spawnSync("sync")
    const library = await transpileLibrary()
    const [ours, raw, rawSha256, platformSha256] = await Promise.all([
      bundle("download-ours.ts", { library }),
      bundle("children/raw-download.ts"),
      bundle("children/raw-download-sha256.ts"),
      bundle("children/platform-download-sha256.ts")
    ])
    const server = await startServer(benchFile("servers/static.mjs"), [source])
    servers.push(server.child)
    const urlOfBytes = (name: string, bytes: number) =>
      `http://127.0.0.1:${server.port}/${name}?bytes=${bytes}&X-Amz-Signature=bench`
    const url = (name: string, mib: number) => urlOfBytes(name, mib * MiB)
    const withCurl = hasCurl()
    if (!withCurl) notes.push("curl is not installed: no curl rows")

    const outDir = path.join(work, "out")
    const fresh = () => {
      fs.rmSync(outDir, { recursive: true, force: true })
      fs.mkdirSync(outDir)
    }
    const mbps = (bytes: number, millis: number) => bytes / 1e6 / (millis / 1000)
    /** CPU time (user + system, all threads) per GiB of each side's runs, by side and size. */
    const cpu = new Map<string, Array<number>>()
    const cpuPerGiB = (side: string, mib: number, result: Record<string, unknown>, files: number) => {
      const key = `${side} ${mib}`
      cpu.set(key, [...(cpu.get(key) ?? []), (result.runCpuMs as number) / ((files * mib) / 1024)])
    }
    const cpuNote = (mib: number) =>
      `CPU s per GiB of the transfer (median, all threads, start-up excluded): ${
        ["ours", "platform+sha256", "raw+sha256", "raw"].map((side) =>
          `${side} ${(median(cpu.get(`${side} ${mib}`) ?? [NaN]) / 1000).toFixed(1)}`
        )
          .join(", ")
      }`

    const oursSide = (urls: ReadonlyArray<string>, mib: number, concurrency: number) => async (): Promise<Sample> => {
      fresh()
      const { result } = await runChild(ours, [outDir, String(concurrency), ...urls])
      const files = result.files as ReadonlyArray<{ readonly sha256: string; readonly bytes: number }>
      cpuPerGiB("ours", mib, result, urls.length)
      const expected = sha256At.get(mib)
      if (files.length !== urls.length || files.some((f) => f.sha256 !== expected)) {
        throw new Error(`download: a file's sha256 differs from the source's (${sizeLabel(mib)})`)
      }
      fresh()
      return { value: mbps(urls.length * mib * MiB, result.millis as number), rssMB: result.maxRssMB }
    }
    /** A side without the library, run by `script`. */
    const rawSide = (
      side: "raw" | "raw+sha256" | "platform+sha256",
      script: string,
      urls: ReadonlyArray<string>,
      mib: number,
      concurrency: number
    ) =>
    async (): Promise<Sample> => {
      fresh()
      const { result } = await runChild(script, [outDir, String(concurrency), ...urls])
      const files = result.files as ReadonlyArray<{ readonly sha256: string }> | undefined
      cpuPerGiB(side, mib, result, urls.length)
      if (files !== undefined && files.some((f) => f.sha256 !== sha256At.get(mib))) {
        throw new Error(`${side} pipeline: a file's sha256 differs from the source's (${sizeLabel(mib)})`)
      }
      for (const u of urls) {
        const size = fs.statSync(path.join(outDir, new URL(u).pathname.slice(1))).size
        if (size !== mib * MiB) throw new Error(`${side} pipeline wrote ${size} bytes, not ${mib * MiB}`)
      }
      fresh()
      return { value: mbps(urls.length * mib * MiB, result.millis as number), rssMB: result.maxRssMB }
    }
    const curlSide = (u: string, mib: number) => async (): Promise<Sample> => {
      fresh()
      const measure = curl(u, path.join(outDir, "curl.csv"))
      fresh()
      return { value: mbps(mib * MiB, measure.millis), rssMB: measure.maxRssMB }
    }

    /** The size whose rows say what the baselines themselves reach: 1 GiB, or the largest without it. */
    const headline = (mib: number) =>
      mib === 1024 || mib === sizes[sizes.length - 1]!.mib && !sizes.some((s) => s.mib === 1024)
    const rows: Array<Row> = []
    const oursRss: Array<{ readonly mib: number; readonly rssMB: number }> = []
    for (const { mib, rounds } of sizes) {
      const u = url("export.csv", mib)
      log(`download: ${sizeLabel(mib)}, ${rounds} round(s)`)
      const samples = await alternate(rounds, {
        ours: oursSide([u], mib, 1),
        rawSha256: rawSide("raw+sha256", rawSha256, [u], mib, 1),
        platform: rawSide("platform+sha256", platformSha256, [u], mib, 1),
        raw: rawSide("raw", raw, [u], mib, 1),
        curl: withCurl ? curlSide(u, mib) : () => Promise.resolve({ value: NaN })
      })
      const vsHashing = ratioRow(samples.ours, samples.rawSha256, "higher")
      const vsRaw = ratioRow(samples.ours, samples.raw, "higher")
      oursRss.push({ mib, rssMB: vsRaw.rssMB!.ours })
      rows.push({
        measure: `\`download\`, ${sizeLabel(mib)} to disk`,
        baseline: "raw Node pipeline with SHA-256 (undici.request → createHash → fs.createWriteStream)",
        ...vsHashing,
        unit: "MB/s",
        target: `>= ${vsHashingTarget.toFixed(1)}x, RSS < ${rssTargetMB} MB`,
        met: vsHashing.ratio >= vsHashingTarget && vsHashing.rssMB!.ours < rssTargetMB,
        note: mib === sizes[0]!.mib
          ? `both hash every byte (sha256); \`download\` also checks the size and keeps a manifest; ${cpuNote(mib)}`
          : cpuNote(mib)
      })
      rows.push({
        measure: `\`download\`, ${sizeLabel(mib)} to disk`,
        baseline: "raw Node pipeline (undici.request → fs.createWriteStream)",
        ...vsRaw,
        unit: "MB/s",
        target: `>= ${vsPlainTarget.toFixed(1)}x`,
        met: vsRaw.ratio >= vsPlainTarget,
        ...(mib === sizes[0]!.mib ? { note: "the raw pipeline does not hash" } : {})
      })
      rows.push({
        measure: `\`download\`, ${sizeLabel(mib)} to disk`,
        baseline: "bare platform HttpClient with SHA-256 (response.stream → createHash → 2 MiB fs.writev batches)",
        ...ratioRow(samples.ours, samples.platform, "higher"),
        unit: "MB/s",
        ...(mib === sizes[0]!.mib
          ? { note: "Effect's own HTTP client without this library: no retries, limits, manifest or checks" }
          : {})
      })
      if (headline(mib)) {
        rows.push({
          measure: `bare platform HttpClient with SHA-256, ${sizeLabel(mib)} to disk`,
          baseline: "raw Node pipeline with SHA-256",
          ...ratioRow(samples.platform, samples.rawSha256, "higher"),
          unit: "MB/s",
          note: "what Effect's platform itself reaches, before any library code"
        })
      }
      if (withCurl) {
        rows.push({
          measure: `\`download\`, ${sizeLabel(mib)} to disk`,
          baseline: "curl -o",
          ...ratioRow(samples.ours, samples.curl, "higher"),
          unit: "MB/s"
        })
        if (headline(mib)) {
          rows.push({
            measure: `raw Node pipeline, ${sizeLabel(mib)} to disk`,
            baseline: "curl -o",
            ...ratioRow(samples.raw, samples.curl, "higher"),
            unit: "MB/s",
            note: "what Node itself reaches from this server"
          })
        }
      }
    }
    const first = oursRss[0]!
    const last = oursRss[oursRss.length - 1]!
    const flat = last.rssMB / first.rssMB
    rows.push({
      measure: `\`download\` peak RSS, ${sizeLabel(last.mib)}`,
      baseline: `\`download\` peak RSS, ${sizeLabel(first.mib)}`,
      ratio: flat,
      min: flat,
      max: flat,
      ours: last.rssMB,
      base: first.rssMB,
      unit: "MB",
      target: `< ${rssTargetMB} MB at every size, flat (<= ${flatFactor.toFixed(2)}x)`,
      met: oursRss.every((r) => r.rssMB < rssTargetMB) && flat <= flatFactor,
      note: `medians by size: ${oursRss.map((r) => `${sizeLabel(r.mib)} ${r.rssMB.toFixed(0)} MB`).join(", ")}`
    })

    log(`download: ${many.files} files of ${sizeLabel(many.mib)} at concurrency 4, ${many.rounds} round(s)`)
    const urls = Array.from({ length: many.files }, (_, i) => url(`part-${i + 1}.csv`, many.mib))
    const manySamples = await alternate(many.rounds, {
      ours: oursSide(urls, many.mib, 4),
      raw: rawSide("raw", raw, urls, many.mib, 4)
    })
    const manyRow = ratioRow(manySamples.ours, manySamples.raw, "higher")
    rows.push({
      measure: `\`download\`, ${many.files} files of ${sizeLabel(many.mib)} at concurrency 4`,
      baseline: "raw Node pipeline, 4 at a time",
      ...manyRow,
      unit: "MB/s",
      target: `>= ${vsPlainTarget.toFixed(1)}x, RSS < ${rssTargetMB} MB`,
      met: manyRow.ratio >= vsPlainTarget && manyRow.rssMB!.ours < rssTargetMB,
      note: "the raw pipeline does not hash"
    })

    rows.push(...(await sandboxRows(sandboxMiB, options.quick ? 1 : 3, urlOfBytes, withCurl, outDir, raw, fresh)))
    if (notes.length > 0) rows[0] = { ...rows[0]!, note: [rows[0]!.note, ...notes].filter(Boolean).join("; ") }
    return rows
  } finally {
    for (const child of servers) await stop(child)
    fs.rmSync(work, { recursive: true, force: true })
  }
}

/**
 * The sandbox's file host against the static server, with the same client (`curl -o`, or the raw pipeline
 * without curl), on a file of about `mib` MiB: the sandbox must not be the bottleneck of the benchmarks.
 */
const sandboxRows = async (
  mib: number,
  rounds: number,
  urlOfBytes: (name: string, bytes: number) => string,
  withCurl: boolean,
  outDir: string,
  raw: string,
  fresh: () => void
): Promise<ReadonlyArray<Row>> => {
  const measure = "sandbox file host"
  log(`download: sandbox file host against the static server, about ${sizeLabel(mib)}, ${rounds} round(s)`)
  let sandbox: Awaited<ReturnType<typeof startProcess>> | undefined
  try {
    const script = await bundle("servers/sandbox.ts")
    // About 98 bytes a row in the sandbox's default columns.
    sandbox = await startProcess(script, [String(Math.round((mib * MiB) / 98.4))], /^URL (\S+) SIZE (\d+)$/m)
    const sandboxUrl = sandbox.match[1]!
    const size = Number(sandbox.match[2])
    // The static server serves the same number of bytes (of its own file).
    const staticUrl = urlOfBytes("static.csv", size)
    const fetchWith = (u: string) => async (): Promise<Sample> => {
      fresh()
      if (withCurl) {
        const m = curl(u, path.join(outDir, "file.csv"))
        fresh()
        return { value: size / 1e6 / (m.millis / 1000) }
      }
      const { result } = await runChild(raw, [outDir, "1", u])
      fresh()
      return { value: size / 1e6 / ((result.millis as number) / 1000) }
    }
    const samples = await alternate(rounds, { sandbox: fetchWith(sandboxUrl), static: fetchWith(staticUrl) })
    const row = ratioRow(samples.sandbox, samples.static, "higher")
    return [{
      measure: `${measure}, ${(size / MiB).toFixed(0)} MiB by ${withCurl ? "curl -o" : "the raw pipeline"}`,
      baseline: "static Node file server (this benchmark's), same client",
      ...row,
      unit: "MB/s",
      target: ">= 1.0x",
      met: row.ratio >= 1,
      note: "served from the sandbox's disk cache after its `files` hashed it"
    }]
  } catch (error) {
    return [{
      measure,
      baseline: "static Node file server",
      ratio: NaN,
      min: NaN,
      max: NaN,
      note: `failed: ${String(error).slice(0, 300)}`
    }]
  } finally {
    if (sandbox !== undefined) await stop(sandbox.child)
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { formatTable } = await import("./lib.js")
  process.stdout.write(`${formatTable(await run({ quick: process.argv.includes("--quick") }))}\n`)
}
