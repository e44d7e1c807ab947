// A stand-in for the TextReveal API, in its own process so that the client side measures only itself:
// every request gets the download endpoint's answer (three signed URLs, with a Content-Length).
import http from "node:http"

const body = JSON.stringify(
  ["a", "b", "c"].map((name) =>
    `https://files.textreveal.com/exports/task=f47ac10b-58cc-4372-a567-0e02b2c3d479/${name}.csv?X-Amz-Expires=300&X-Amz-Signature=0123456789abcdef`
  )
)
const server = http.createServer((request, response) => {
  request.resume()
  response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
  response.end(body)
})
server.keepAliveTimeout = 60_000
server.listen(0, "127.0.0.1", () => process.stdout.write(`${server.address().port}\n`))
