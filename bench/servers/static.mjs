// A static file server, in its own process: `GET /<any name>?bytes=N` answers the first N bytes of the file
// given on the command line, read from disk as fast as Node sends a file (with `Content-Length`, an `ETag`
// and `Range: bytes=a-` for resumes). Prints its port on the first line.
//
//   node static.mjs <file>
import fs from "node:fs"
import http from "node:http"

const file = process.argv[2]
const size = fs.statSync(file).size

const server = http.createServer((request, response) => {
  request.resume()
  const url = new URL(request.url ?? "/", "http://localhost")
  const bytes = Math.min(Number(url.searchParams.get("bytes") ?? size), size)
  const etag = `"bench-${bytes}"`
  const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? "")
  const ifRange = request.headers["if-range"]
  const start = range && (ifRange === undefined || ifRange === etag) ? Number(range[1]) : 0
  if (start >= bytes && bytes > 0) {
    response.writeHead(416, { "content-range": `bytes */${bytes}` })
    response.end()
    return
  }
  const headers = { "content-length": bytes - start, "content-type": "text/csv", etag, "accept-ranges": "bytes" }
  if (start > 0) response.writeHead(206, { ...headers, "content-range": `bytes ${start}-${bytes - 1}/${bytes}` })
  else response.writeHead(200, headers)
  if (bytes === 0 || request.method === "HEAD") {
    response.end()
    return
  }
  fs.createReadStream(file, { start, end: bytes - 1, highWaterMark: 1024 * 1024 }).pipe(response)
})
server.keepAliveTimeout = 60_000
server.listen(0, "127.0.0.1", () => process.stdout.write(`${server.address().port}\n`))
