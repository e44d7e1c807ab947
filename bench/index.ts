/**
 * Every benchmark, one table of ratios measured side by side in this run.
 *
 *   npm run bench              the table, as markdown
 *   npm run bench -- --json    the same rows as JSON
 *   npm run bench -- --quick   fewer rounds (a smoke run)
 */
import * as os from "node:os"
import * as DownloadUrls from "./downloadUrls.js"
import { formatTable, type Row } from "./lib.js"

const args = process.argv.slice(2)
const quick = args.includes("--quick")
const rows: Array<Row> = [...(await DownloadUrls.run({ quick }))]
const machine = `${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`
if (args.includes("--json")) {
  process.stdout.write(`${JSON.stringify({ machine, rows }, null, 2)}\n`)
} else {
  process.stdout.write(`${formatTable(rows)}\n\n${machine}; \`npm run bench\`\n`)
}
