import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"

/** @internal */
export const mebibytes = (n: number) => n * 1024 * 1024

const formatBytes = (n: number): string =>
  n >= mebibytes(1) && n % mebibytes(1) === 0 ? `${n / mebibytes(1)} MiB` : `${n} bytes`

const broken = (response: HttpClientResponse.HttpClientResponse, cause: unknown) =>
  new HttpClientError.RequestError({
    request: response.request,
    reason: "Transport",
    cause,
    description: "the connection broke while the response body was read"
  })

/**
 * A body over the limit: a `Decode` failure, never retried (the same request would get the same body).
 *
 * @internal
 */
export const tooLarge = (response: HttpClientResponse.HttpClientResponse, limit: number) =>
  new HttpClientError.ResponseError({
    request: response.request,
    response,
    reason: "Decode",
    description: `the response body is larger than the ${formatBytes(limit)} limit`
  })

/** The declared length of the body as it will be read, when the server declared one and nothing inflates it. */
const declaredLength = (response: HttpClientResponse.HttpClientResponse): number | undefined => {
  // `headers` is rebuilt on each access by platform responses: read it once.
  const headers = response.headers
  const encoding = headers["content-encoding"]
  if (encoding !== undefined && encoding !== "identity") return undefined
  const length = headers["content-length"]
  return length !== undefined && /^\d{1,15}$/.test(length) ? Number(length) : undefined
}

const concat = (chunks: Chunk.Chunk<Uint8Array>, size: number): Uint8Array<ArrayBuffer> => {
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.length
  }
  return bytes
}

/** At most `limit` bytes of the body, read as a stream that is cancelled once the limit is passed. */
const streamPrefix = (
  response: HttpClientResponse.HttpClientResponse,
  limit: number
): Effect.Effect<
  { readonly bytes: Uint8Array<ArrayBuffer>; readonly truncated: boolean },
  HttpClientError.RequestError
> =>
  response.stream.pipe(
    Stream.mapAccum(0, (read, chunk) => {
      const room = limit - read
      const kept = chunk.length > room ? chunk.subarray(0, Math.max(0, room)) : chunk
      return [read + chunk.length, { kept, over: read + chunk.length > limit }] as const
    }),
    Stream.takeUntil(({ over }) => over),
    Stream.runFold(
      { chunks: Chunk.empty<Uint8Array>(), size: 0, truncated: false },
      (acc, { kept, over }) => ({
        chunks: Chunk.append(acc.chunks, kept),
        size: acc.size + kept.length,
        truncated: over
      })
    ),
    Effect.map(({ chunks, size, truncated }) => ({ bytes: concat(chunks, size), truncated })),
    Effect.mapError((error) => broken(response, error.cause))
  )

/**
 * The body as text, at most about `limit` bytes of it: what an error message needs, never all of a hostile
 * body. A body that declares a length within the limit is read at once; any other is read as a stream and
 * cut at the limit.
 *
 * @internal
 */
export const readTextPrefix = (
  response: HttpClientResponse.HttpClientResponse,
  limit: number
): Effect.Effect<string, HttpClientError.RequestError> => {
  const length = declaredLength(response)
  if (length !== undefined && length <= limit) {
    return Effect.mapError(response.text, (error) => broken(response, error.cause))
  }
  return Effect.map(streamPrefix(response, limit), ({ bytes }) => new TextDecoder().decode(bytes))
}

/**
 * The whole response read into memory, up to `limit` bytes; more is a `Decode` error. A body with a
 * declared length is read by the response itself (platform responses keep their text, so that a decoder
 * reading `response.text` again pays nothing); a body of unknown length (chunked, compressed) is read as a
 * stream and counted, and the response given back holds the bytes read.
 *
 * @internal
 */
export const readWhole = (
  response: HttpClientResponse.HttpClientResponse,
  limit: number
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
  const length = declaredLength(response)
  if (length !== undefined) {
    return length > limit
      // Starting to read the body and stopping ends it: the connection is released now, not when collected.
      ? Effect.zipRight(Effect.ignore(Stream.runHead(response.stream)), Effect.fail(tooLarge(response, limit)))
      : Effect.as(Effect.mapError(response.text, (error) => broken(response, error.cause)), response)
  }
  return Effect.flatMap(streamPrefix(response, limit), ({ bytes, truncated }) =>
    truncated
      ? Effect.fail(tooLarge(response, limit))
      : Effect.try({
        try: () =>
          HttpClientResponse.fromWeb(
            response.request,
            new Response(nullBody.has(response.status) ? null : bytes, {
              status: response.status,
              headers: withoutEncoding(response.headers)
            })
          ),
        // A status a web `Response` cannot hold (outside 200-599): the answer is not one the API gives.
        catch: () =>
          new HttpClientError.ResponseError({
            request: response.request,
            response,
            reason: "Decode",
            description: `unexpected status ${response.status}`
          })
      }))
}

/** Statuses whose answers have no body: a web `Response` refuses one (a server that sends one anyway loses it). */
const nullBody = new Set([101, 204, 205, 304])

const withoutEncoding = (headers: Readonly<Record<string, string>>) => {
  const { "content-encoding": _, "content-length": __, ...rest } = headers
  return rest
}
