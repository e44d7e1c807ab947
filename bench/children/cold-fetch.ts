/**
 * The baseline of the cold start: a plain `fetch` script making the call `getDownloadUrls` makes.
 *
 *   node cold-fetch.mjs <baseUrl>
 */
import { report } from "./report.js"

const response = await fetch(`${process.argv[2]}/tasks/f47ac10b-58cc-4372-a567-0e02b2c3d479/download`, {
  headers: { authorization: "Bearer bench-token", accept: "application/json" }
})
if (!response.ok) throw new Error(`status ${response.status}`)
const urls = (await response.json()) as ReadonlyArray<string>
report({ urls: urls.length })
process.exit(0)
