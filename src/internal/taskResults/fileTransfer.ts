import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as DownloadUrl from "../../DownloadUrl.js"
import { DownloadError } from "../../TaskResultsError.js"
import type * as TextRevealClient from "../../TextRevealClient.js"
import * as Metrics from "../metrics.js"
import { codeOf } from "../redact.js"
import { readTextPrefix } from "../responseBody.js"
import type { Slot } from "./names.js"
import * as Retry from "./retry.js"
import type { SignedUrls, UrlState } from "./signedUrls.js"

/**
 * Where the bytes that follow belong: `offset` 0 starts the file (over, when bytes were had before: the
 * host ignored the range or the file changed); a larger `offset` continues it. `size` is the file's length
 * when the host said it; `etag` the entity the bytes belong to.
 *
 * @internal
 */
export interface Start {
  readonly _tag: "Start"
  readonly offset: number
  readonly size: number | undefined
  readonly etag: string | undefined
}

/**
 * What a transfer emits: `Start` markers, each followed by the bytes of the file from its offset.
 *
 * @internal
 */
export type Event = Uint8Array | Start

/** @internal */
export const isStart = (event: Event): event is Start => !(event instanceof Uint8Array)

/**
 * What a transfer needs: the file client (no token, no tracing), the task's URLs and the bounds.
 *
 * @internal
 */
export interface Env {
  readonly http: HttpClient.HttpClient
  readonly urls: SignedUrls
  readonly policy: Retry.Policy
  readonly maxResumes: number
  readonly idleTimeout: Duration.Duration
}

/**
 * Where to begin: `offset` bytes of the entity `etag` already had (e.g. in a temporary file of an earlier
 * run), of `size` bytes when known.
 *
 * @internal
 */
export interface From {
  readonly offset: number
  readonly etag: string | undefined
  readonly size: number | undefined
}

type TransferError = DownloadError | TextRevealClient.ApiError

interface State {
  offset: number
  etag: string | undefined
  size: number | undefined
  /** Whether a drop can be continued with a range: a strong ETag and an unencoded body. */
  resumable: boolean
  /** The next request asks for the whole file: the last range answer did not fit. */
  full: boolean
  highWater: number
  noProgress: number
  started: boolean
  dropped: boolean
  done: boolean
  readonly url: UrlState
}

const isStrong = (etag: string | undefined): etag is string => etag !== undefined && !etag.startsWith("W/")

const parseLength = (value: string | undefined): number | undefined =>
  value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined

const isEncoded = (response: HttpClientResponse.HttpClientResponse): boolean => {
  const encoding = response.headers["content-encoding"]
  return encoding !== undefined && encoding.trim().toLowerCase() !== "identity" && encoding.trim() !== ""
}

/** `bytes 100-199/1000`, `bytes 100-199/*`, or `bytes * /1000` (416). */
const parseContentRange = (
  value: string | undefined
): { readonly start: number | undefined; readonly total: number | undefined } | undefined => {
  const match = value === undefined ? null : /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(value.trim())
  if (match === null) return undefined
  return {
    start: match[1] === undefined ? undefined : Number(match[1]),
    total: match[3] === undefined || match[3] === "*" ? undefined : Number(match[3])
  }
}

/** A short code for a transport failure (`ECONNREFUSED`), never its message: that may hold the URL. */
const transportDetail = (error: HttpClientError.HttpClientError): string => {
  const code = codeOf(error.cause)
  return code !== undefined && /^[A-Z0-9_]{2,40}$/.test(code) ? code : error.reason
}

/**
 * Up to `max` bytes of a body that is not the file, then the connection is let go. A body that cannot be
 * read is only missing detail for an error already being reported: it reads as empty.
 */
const excerpt = (response: HttpClientResponse.HttpClientResponse, max = 4096): Effect.Effect<string> =>
  Effect.orElseSucceed(readTextPrefix(response, max), () => "")

/** Lets go of a response whose body is not wanted: the request is aborted. */
const release = (response: HttpClientResponse.HttpClientResponse, scope: Scope.CloseableScope): Effect.Effect<void> =>
  Effect.zipRight(excerpt(response, 1), Scope.close(scope, Exit.void))

/** The `<Code>` and `<Message>` of an S3-style XML error, bounded: never the rest (it may echo the signature). */
const s3Detail = (body: string): string => {
  const code = /<Code>([A-Za-z]{1,64})<\/Code>/.exec(body)?.[1]
  const message = /<Message>([^<]{1,200})<\/Message>/.exec(body)?.[1]
  return [code, message].filter((part) => part !== undefined).join(": ")
}

/**
 * The bytes of one file of a task, fetched with plain GETs from its signed URL:
 *
 * - 429, 5xx and transport failures before the body are retried (`Retry.schedule`);
 * - a body cut short (dropped, idle for `idleTimeout`, or ended before `Content-Length`) is continued with
 *   `Range: bytes=N-` and `If-Range: <etag>`; a `206` continues, a `200` starts over (a new `Start` at 0);
 *   at most `maxResumes` drops without a new byte in between;
 * - a URL expired by the clock, or refused with 403, is fetched afresh once per expiry and matched by name.
 *
 * @internal
 */
export const transfer = (env: Env, slot: Slot, url: UrlState, from: From): Stream.Stream<Event, TransferError> =>
  Stream.suspend(() => {
    const d = driver(env, slot, url, from)
    return Stream.flatten(Stream.repeatEffectOption(Effect.map(d.next, d.stream)))
  })

/**
 * What `receive` hands its bytes to: `start` before the bytes of each body, `bytes` with each chunk of it, in
 * order. `bytes` runs synchronously for every chunk: it returns `Effect.void` unless it must wait (a write).
 *
 * @internal
 */
export interface Receiver<E> {
  readonly start: (event: Start) => Effect.Effect<void, E>
  readonly bytes: (chunk: Chunk.Chunk<Uint8Array>) => Effect.Effect<void, E>
}

/**
 * The same transfer as `transfer`, its bytes pushed to a receiver instead of pulled as a stream: each body is
 * consumed straight from the response (`Stream.runForEachChunk`), without the combinators of a stream of
 * streams on every chunk. This is the fast path of `download`.
 *
 * @internal
 */
export const receive = <E>(
  env: Env,
  slot: Slot,
  url: UrlState,
  from: From,
  receiver: Receiver<E>
): Effect.Effect<void, TransferError | E> =>
  Effect.suspend(() => {
    const d = driver(env, slot, url, from)
    const loop: Effect.Effect<void, TransferError | E> = Effect.matchEffect(d.next, {
      onFailure: (error) => Option.isNone(error) ? Effect.void : Effect.fail(error.value),
      onSuccess: (body) => Effect.zipRight(d.consume(body, receiver), loop)
    })
    return loop
  })

/** One answer of the file host: where its bytes belong, and the response that carries them (none for 416). */
interface Body {
  readonly start: Start
  readonly response: HttpClientResponse.HttpClientResponse | undefined
  readonly scope: Scope.CloseableScope | undefined
}

const driver = (env: Env, slot: Slot, url: UrlState, from: From) => {
  const s: State = {
    offset: from.offset,
    etag: from.etag,
    size: from.size,
    resumable: isStrong(from.etag),
    full: false,
    highWater: from.offset,
    noProgress: 0,
    started: false,
    dropped: false,
    done: false,
    url
  }
  const name = slot.name

  /** Counts a retry that follows no new byte; past `maxResumes`, the file fails. */
  const noProgress = (what: string): DownloadError | undefined =>
    ++s.noProgress > env.maxResumes
      ? new DownloadError({
        fileName: name,
        reason: "TooManyResumes",
        message: `${name}: ${what} ${s.noProgress} times without progress (at byte ${s.offset})`
      })
      : undefined

  // Each request lives in a scope of its own: closing it aborts the request (an idle body, a response not
  // read).
  const http = HttpClient.withScope(env.http)

  const request = (signed: DownloadUrl.DownloadUrl) => {
    const range = s.offset > 0 && s.resumable && !s.full
    const req = HttpClientRequest.get(signed.url, {
      headers: range
        ? { "accept-encoding": "identity", range: `bytes=${s.offset}-`, "if-range": s.etag! }
        : { "accept-encoding": "identity" }
    })
    const sent = Effect.flatMap(Clock.currentTimeMillis, (startedAt) =>
      http.execute(req).pipe(
        Effect.tap((response) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Metrics.recordRequest("file", response.status, now - startedAt))
        ),
        Effect.tapError(() =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Metrics.recordRequest("file", "transport", now - startedAt))
        )
      ))
    return Effect.zipRight(range ? Metrics.recordRetry("file", "resume") : Effect.void, sent).pipe(
      Effect.mapError((error) =>
        new Retry.HostFailure(
          "Transport",
          undefined,
          Option.none(),
          error._tag === "RequestError" && error.reason === "Transport",
          transportDetail(error)
        )
      ),
      Effect.flatMap((response) =>
        Retry.retryableStatus(response.status)
          ? Effect.zipRight(
            excerpt(response),
            Effect.flatMap(Clock.currentTimeMillis, (now) =>
              Effect.fail(Retry.statusFailure(response.status, response.headers["retry-after"], now)))
          )
          : Effect.succeed(response)
      ),
      Effect.retry(Retry.schedule(env.policy)),
      Effect.mapError((failure) =>
        failure.kind === "Transport"
          ? new DownloadError({
            fileName: name,
            reason: "Transport",
            message: `${name}: no answer from the file host (${failure.detail})`
          })
          : new DownloadError({
            fileName: name,
            reason: "Status",
            status: failure.status!,
            message: `${name}: ${failure.detail}${failure.retryable ? ", retries exhausted" : ""}`
          })
      )
    )
  }

  /**
   * Aborts the request when no byte arrived for `idleTimeout` (noticed within twice that): the body then
   * fails like a dropped one. One sleeping fiber per body, not a timer per chunk (that halves throughput).
   */
  const idleWatch = (scope: Scope.CloseableScope) =>
    Effect.suspend(() => {
      let seen = -1
      return Effect.sleep(env.idleTimeout).pipe(
        Effect.zipRight(Effect.suspend(() => {
          if (s.offset === seen) return Scope.close(scope, Exit.void)
          seen = s.offset
          return Effect.void
        })),
        Effect.forever
      )
    })

  /** Counts the bytes of a body as they arrive; fails when the host sends more than it announced. */
  const count = (n: number): DownloadError | undefined => {
    if (n > 0) {
      s.offset += n
      s.url.refreshedWithoutProgress = false
    }
    return s.size !== undefined && s.offset > s.size
      ? new DownloadError({
        fileName: name,
        reason: "SizeMismatch",
        message: `${name}: the file host sent more than the ${s.size} bytes it announced`
      })
      : undefined
  }

  const stream = (b: Body): Stream.Stream<Event, TransferError> => {
    const { response, scope } = b
    if (response === undefined || scope === undefined) return Stream.succeed<Event>(b.start)
    return Stream.concat(
      Stream.succeed<Event>(b.start),
      Stream.unwrapScoped(Effect.as(Effect.forkScoped(idleWatch(scope)), response.stream)).pipe(
        Stream.ensuring(Scope.close(scope, Exit.void)),
        Stream.mapChunksEffect((chunk) => {
          let n = 0
          for (const bytes of chunk) n += bytes.length
          const error = count(n)
          if (error !== undefined) return Effect.fail(error)
          const counted = n > 0 ? Metric.incrementBy(Metrics.bytesDownloaded, n) : Effect.void
          return Effect.as(counted, chunk as Chunk.Chunk<Event>)
        }),
        Stream.catchTags({
          // A body cut short, whatever the cause: continued by the next request.
          ResponseError: () => {
            s.dropped = true
            return Stream.empty
          }
        })
      )
    )
  }

  /**
   * Pushes a body to a receiver, chunk by chunk, with no Effect per chunk unless the receiver needs one. The
   * bytes counter is updated once per body (and when it ends early), not per chunk.
   */
  const consume = <E>(b: Body, receiver: Receiver<E>): Effect.Effect<void, TransferError | E> => {
    const { response, scope } = b
    if (response === undefined || scope === undefined) return receiver.start(b.start)
    let uncounted = 0
    const run = response.stream.pipe(
      Stream.runForEachChunk((chunk): Effect.Effect<void, DownloadError | E> => {
        let n = 0
        for (const bytes of chunk) n += bytes.length
        const error = count(n)
        if (error !== undefined) return Effect.fail(error)
        uncounted += n
        return receiver.bytes(chunk)
      }),
      // A body cut short, whatever the cause: continued by the next request.
      Effect.catchTag("ResponseError", () => {
        s.dropped = true
        return Effect.void
      })
    )
    return Effect.zipRight(
      receiver.start(b.start),
      Effect.scoped(Effect.zipRight(Effect.forkScoped(idleWatch(scope)), run)).pipe(
        Effect.ensuring(Effect.zipRight(
          Scope.close(scope, Exit.void),
          Effect.suspend(() => uncounted > 0 ? Metric.incrementBy(Metrics.bytesDownloaded, uncounted) : Effect.void)
        ))
      )
    )
  }

  /** Asks the whole file again after a range answer that does not fit. */
  const retryFull = (response: HttpClientResponse.HttpClientResponse, scope: Scope.CloseableScope, what: string) =>
    Effect.flatMap(release(response, scope), () => {
      const error = noProgress(what)
      if (error !== undefined) return Effect.fail(error)
      s.full = true
      return open
    })

  const open: Effect.Effect<Body, TransferError> = Effect.suspend(() =>
    Effect.gen(function*() {
      const signed = yield* env.urls.current(slot, s.url)
      const scope = yield* Scope.make()
      const response = yield* request(signed).pipe(
        Scope.extend(scope),
        Effect.onError(() => Scope.close(scope, Exit.void))
      )
      const etag = response.headers["etag"]
      const encoded = isEncoded(response)
      switch (response.status) {
        case 200: {
          s.offset = 0
          s.etag = etag
          s.size = encoded ? undefined : parseLength(response.headers["content-length"])
          s.resumable = isStrong(etag) && !encoded
          s.full = false
          return { start: { _tag: "Start", offset: 0, size: s.size, etag }, response, scope } satisfies Body
        }
        case 206: {
          const range = parseContentRange(response.headers["content-range"])
          if (
            range === undefined || range.start !== s.offset || encoded ||
            (etag !== undefined && s.etag !== undefined && etag !== s.etag)
          ) {
            return yield* retryFull(response, scope, "the file host answered a range that does not fit")
          }
          if (range.total !== undefined) s.size = range.total
          return {
            start: { _tag: "Start", offset: s.offset, size: s.size, etag: s.etag },
            response,
            scope
          } satisfies Body
        }
        case 416: {
          const range = parseContentRange(response.headers["content-range"])
          if (s.offset > 0 && range?.total === s.offset) {
            yield* release(response, scope)
            s.size = range.total
            s.done = true
            return {
              start: { _tag: "Start", offset: s.offset, size: s.size, etag: s.etag },
              response: undefined,
              scope: undefined
            } satisfies Body
          }
          return yield* retryFull(response, scope, "the file host refused the range")
        }
        case 403: {
          const detail = s3Detail(yield* excerpt(response))
          yield* Scope.close(scope, Exit.void)
          yield* Effect.annotateCurrentSpan("textreveal.file.expired", detail)
          yield* env.urls.refresh(slot, s.url, 403)
          return yield* open
        }
        default: {
          yield* release(response, scope)
          return yield* new DownloadError({
            fileName: name,
            reason: "Status",
            status: response.status,
            message: `${name}: the file host answered ${response.status}`
          })
        }
      }
    })
  )

  const next: Effect.Effect<Body, Option.Option<TransferError>> = Effect.suspend(
    () => {
      if (s.done) return Effect.fail(Option.none())
      if (s.started) {
        if (!s.dropped && (s.size === undefined || s.offset >= s.size)) {
          s.done = true
          return Effect.fail(Option.none())
        }
        if (s.offset > s.highWater) s.highWater = s.offset
        else {
          const error = noProgress(s.dropped ? "the connection dropped" : "the body ended short")
          if (error !== undefined) return Effect.fail(Option.some(error))
        }
        if (!s.resumable) s.full = true
      }
      s.started = true
      s.dropped = false
      return Effect.mapError(open, Option.some)
    }
  )

  return { next, stream, consume }
}
