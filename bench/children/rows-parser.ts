/**
 * The baseline of the rows benchmark: `csv-parse` alone (`columns: true`: records keyed by the header, as
 * `rows` gives them) over the same bytes from the same server (`undici.request`), counted. No Effect code.
 *
 *   node rows-parser.mjs <url>
 */
import { parse } from "csv-parse"
import { Writable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { request } from "undici"
import { report, since } from "./report.js"

const start = process.hrtime.bigint()
const { body } = await request(process.argv[2]!)
let records = 0
await pipeline(
  body,
  parse({ columns: true, bom: true, skip_empty_lines: true }),
  new Writable({
    objectMode: true,
    highWaterMark: 1024,
    write(_record, _encoding, callback) {
      records++
      callback()
    }
  })
)
report({ millis: since(start), records })
