/**
 * Records/s of the CSV path of `TaskResults.rows` (its internal parser over a stream of 64 KiB chunks) beside
 * `csv-parse` alone (its stream API, `columns: true`, same chunks), in one process, alternating rounds.
 *
 *   npx tsx bench/rows.ts [records=500000] [rounds=5]
 */
import { Parser } from "csv-parse"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Csv from "../src/internal/taskResults/csv.js"

const records = Number(process.argv[2] ?? 500_000)
const rounds = Number(process.argv[3] ?? 5)

const lines = ["id,name,city,amount,note"]
for (let i = 0; i < records; i++) {
  lines.push(
    i % 50 === 0
      ? `${i},"Name ${i}",Paris,${i * 1.5},"a ""quoted"", multi\nline note"`
      : `${i},Name ${i},Lyon,${i},plain`
  )
}
const data = Buffer.from(lines.join("\r\n") + "\r\n")
const chunks: Array<Uint8Array> = []
for (let at = 0; at < data.length; at += 65536) chunks.push(data.subarray(at, at + 65536))

const parserAlone = () =>
  new Promise<number>((resolve, reject) => {
    let count = 0
    const parser = new Parser({ columns: true, bom: true, skip_empty_lines: true })
    parser.on("readable", () => {
      while (parser.read() !== null) count++
    })
    parser.on("error", reject)
    parser.on("end", () => resolve(count))
    for (const chunk of chunks) parser.write(chunk)
    parser.end()
  })

const ours = () =>
  Effect.runPromise(Stream.runCount(Csv.parse("bench.csv", undefined, "fail")(Stream.fromIterable(chunks))))

const time = async (f: () => Promise<number>) => {
  const start = process.hrtime.bigint()
  const count = await f()
  if (count !== records) throw new Error(`counted ${count}`)
  return Number(process.hrtime.bigint() - start) / 1e6
}

const main = async () => {
  await time(parserAlone)
  await time(ours)
  const ratios: Array<number> = []
  for (let round = 0; round < rounds; round++) {
    const alone = await time(parserAlone)
    const ourMs = await time(ours)
    ratios.push(alone / ourMs)
    console.log(
      `round ${round + 1}: csv-parse ${(records / alone * 1000).toFixed(0)} rec/s, rows ${
        (records / ourMs * 1000).toFixed(0)
      } rec/s`
    )
  }
  ratios.sort((a, b) => a - b)
  console.log(`rows vs csv-parse alone: ${ratios[Math.floor(rounds / 2)]!.toFixed(2)} (median; 1.00 = as fast)`)
}

void main()
