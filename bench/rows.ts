/**
 * Records/s of `TaskResults.rows` over one CSV file (from a static server in its own process, with
 * `NodeHttpClient.layerUndici`) beside `csv-parse` alone (`columns: true`) on the same bytes from the same
 * server (`undici.request`), each in a child process of its own, in alternating rounds.
 *
 *   npx tsx bench/rows.ts [--quick] [--rows-mib N]
 */
import type { ChildProcess } from "node:child_process"
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

/** The default size: `csv-parse` reads about 10-20 MB/s on a 2-core machine, so 1 GiB takes minutes a side. */
export const defaultMiB = 64

export const run = async (
  options: { readonly quick: boolean; readonly mib?: number | undefined }
): Promise<ReadonlyArray<Row>> => {
  const mib = options.mib ?? (options.quick ? 8 : defaultMiB)
  const rounds = options.quick ? 1 : 5
  const work = tmpWork("rows")
  let server: ChildProcess | undefined
  try {
    const file = path.join(work, "rows.csv")
    const { recordsAt } = writeCsv(file, mib)
    const records = recordsAt(mib)
    const [ours, parser] = await Promise.all([bundle("children/rows-ours.ts"), bundle("children/rows-parser.ts")])
    const started = await startServer(benchFile("servers/static.mjs"), [file])
    server = started.child
    const url = `http://127.0.0.1:${started.port}/rows.csv?X-Amz-Signature=bench`
    const side = (script: string) => async (): Promise<Sample> => {
      const { result } = await runChild(script, [url])
      if (result.records !== records) {
        throw new Error(`${path.basename(script)} counted ${result.records}, not ${records}`)
      }
      return { value: records / ((result.millis as number) / 1000), rssMB: result.maxRssMB }
    }
    log(`rows: ${mib} MiB of CSV (${records} records), ${rounds} round(s)`)
    const samples = await alternate(rounds, { ours: side(ours), parser: side(parser) })
    const row = ratioRow(samples.ours, samples.parser, "higher")
    return [{
      measure: `\`rows\` of a ${mib >= 1024 ? `${mib / 1024} GiB` : `${mib} MiB`} CSV (records/s)`,
      baseline: "csv-parse alone (columns: true), same bytes over HTTP",
      ...row,
      unit: "rec/s",
      target: ">= 0.8x",
      met: row.ratio >= 0.8,
      ...(mib < 1024
        ? {
          note: `${mib} MiB, not 1 GiB, to keep the run short: \`npm run bench -- --rows-mib 1024\` for the full size`
        }
        : {})
    }]
  } finally {
    if (server !== undefined) await stop(server)
    fs.rmSync(work, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { formatTable } = await import("./lib.js")
  const at = process.argv.indexOf("--rows-mib")
  const mib = at === -1 ? undefined : Number(process.argv[at + 1])
  process.stdout.write(`${formatTable(await run({ quick: process.argv.includes("--quick"), mib }))}\n`)
}
