/**
 * The file host behind signed URLs, in the manner of cloud storage: no token, a signature over the path
 * and expiry, XML error bodies, `ETag`, `Range` with `If-Range`, `HEAD`, gzip on request.
 *
 * @internal
 */
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import { createReadStream } from "node:fs"
import { createGzip } from "node:zlib"
import { currentFault } from "../faults.js"
import * as Range from "../range.js"
import * as Responses from "../responses.js"
import { Signer } from "../signing.js"
import * as Target from "../target.js"
import { TaskStore } from "../taskStore.js"

const noSuchKey = () => Responses.storageError(404, "NoSuchKey", "The specified key does not exist.")

/** @internal */
export const file = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  const signer = yield* Signer
  const store = yield* TaskStore
  // The router only runs this for a target that parsed.
  const target = Target.parse(request.url)
  if (Option.isNone(target)) return noSuchKey()
  const { path, query } = target.value
  const expires = query.get("expires") ?? undefined
  if (!signer.verify(path, expires, query.get("signature") ?? undefined)) {
    return Responses.storageError(
      403,
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided."
    )
  }
  if (Number(expires) <= (yield* Clock.currentTimeMillis)) {
    return Responses.storageError(403, "AccessDenied", "Request has expired")
  }
  const fault = yield* FiberRef.get(currentFault)
  const located = Option.isSome(fault) && fault.value._tag === "ChangeEtag"
    ? yield* store.changeFile(path)
    : yield* store.file(path)
  if (Option.isNone(located)) return noSuchKey()
  const { file, task } = located.value
  const { body } = file
  const headers: Record<string, string> = task.ignoreRange
    ? { etag: body.etag }
    : { etag: body.etag, "accept-ranges": "bytes" }

  if (task.gzip && body.contentType !== "application/gzip" && Range.acceptsGzip(request.headers["accept-encoding"])) {
    return HttpServerResponse.stream(
      NodeStream.pipeThroughSimple(body.bytes(0, body.size), () => createGzip()),
      {
        headers: { etag: body.etag, "content-encoding": "gzip", vary: "accept-encoding" },
        contentType: body.contentType
      }
    )
  }
  const selection = task.ignoreRange
    ? { _tag: "Whole" as const }
    : Range.select({ range: request.headers["range"], ifRange: request.headers["if-range"] }, body.size, body.etag)
  if (selection._tag === "Unsatisfiable") {
    return HttpServerResponse.empty({ status: 416, headers: { ...headers, "content-range": `bytes */${body.size}` } })
  }
  const [status, start, end] = selection._tag === "Whole"
    ? [200, 0, body.size] as const
    : [206, selection.start, selection.end] as const
  const responseHeaders = {
    ...headers,
    // The length also as a header: the platform leaves out a `Content-Length` of 0.
    "content-length": String(end - start),
    ...(status === 206 ? { "content-range": `bytes ${start}-${end - 1}/${body.size}` } : {})
  }
  // A file cached on disk is piped from it as a static server would; a HEAD opens nothing.
  const onDisk = request.method === "HEAD" ? Option.none() : yield* body.onDisk
  if (Option.isSome(onDisk) && end > start) {
    return HttpServerResponse.raw(
      createReadStream(onDisk.value, { start, end: end - 1, highWaterMark: 1024 * 1024 }),
      { status, headers: responseHeaders, contentType: body.contentType, contentLength: end - start }
    )
  }
  return HttpServerResponse.stream(body.bytes(start, end), {
    status,
    headers: responseHeaders,
    contentType: body.contentType,
    contentLength: end - start
  })
})
