import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { DownloadError } from "../../TaskResultsError.js"
import type * as TextRevealClient from "../../TextRevealClient.js"
import * as Metrics from "../metrics.js"
import { codeOf } from "../redact.js"
import { parseRetryAfter } from "../retryAfter.js"
import type * as RetryPolicy from "../retryPolicy.js"
import { BodyStopped, bounded, counter, sizeOf, type SpeedRules, withSpeedRules } from "./bodyLimits.js"
import { gunzip } from "./gzip.js"
import type { Slot } from "./names.js"
import * as Retry from "./retry.js"
import type { SignedUrls } from "./signedUrls.js"
import * as Rules from "./transferRules.js"

/**
 * What a transfer needs: the file client (no token, no tracing), the task's URLs and the bounds.
 *
 * @internal
 */
export interface Env {
  readonly http: HttpClient.HttpClient
  readonly urls: SignedUrls
  readonly policy: RetryPolicy.SchedulePolicy
  readonly maxResumes: number
  readonly maxFileBytes: number
  /** The time an answer's headers may take. */
  readonly timeout: Duration.Duration
  readonly speed: SpeedRules
}

/**
 * Where the bytes of a transfer go: for each body, a function taking its chunks in order, which belong to the
 * file from `start.offset` on (0: the file starts over).
 *
 * @internal
 */
export type Receiver<E> = (start: Rules.Start) => Effect.Effect<OnChunk<E>, E>

/**
 * Takes one chunk of a body; the next is read once it completes.
 *
 * @internal
 */
export type OnChunk<E> = (chunk: Chunk.Chunk<Uint8Array>) => Effect.Effect<void, E>

type TransferError = DownloadError | TextRevealClient.ApiError

/** A short code for a transport failure (`ECONNREFUSED`), never its message: that may hold the URL. */
const transportDetail = (error: HttpClientError.HttpClientError): string => {
  const code = codeOf(error.cause)
  return code !== undefined && /^[A-Z0-9_]{2,40}$/.test(code) ? code : error.reason
}

const isCut = (error: unknown): error is HttpClientError.ResponseError | BodyStopped =>
  error instanceof BodyStopped || (HttpClientError.isHttpClientError(error) && error._tag === "ResponseError")

const headersOf = (response: HttpClientResponse.HttpClientResponse, nowMillis: number): Rules.Headers => {
  const length = response.headers["content-length"]
  const encoding = response.headers["content-encoding"]?.trim().toLowerCase()
  return {
    etag: response.headers["etag"],
    contentLength: length !== undefined && /^\d{1,16}$/.test(length) ? Number(length) : undefined,
    contentRange: response.headers["content-range"],
    encoded: encoding !== undefined && encoding !== "" && encoding !== "identity",
    retryAfter: Option.getOrUndefined(parseRetryAfter(response.headers["retry-after"], nowMillis))
  }
}

/**
 * Runs one body into `onChunk` as the file's bytes: counted against what was announced, counted for the
 * speed rules (`tally`), and decoded when the host encoded them (the decoded bytes counted again against
 * `limit`, which a small body can inflate past). A plain body takes one step per chunk, straight from the
 * socket's stream into `onChunk`: each stream stage more costs the download about 10% of its speed.
 */
const runBody = <E>(
  slot: Slot,
  response: HttpClientResponse.HttpClientResponse,
  receive: Extract<Rules.Decision, { readonly _tag: "Receive" }>,
  tally: (bytes: number) => void,
  onChunk: OnChunk<E>
): Effect.Effect<void, HttpClientError.ResponseError | BodyStopped | DownloadError | E> => {
  if (receive.encoded) {
    return response.stream.pipe(
      bounded(receive.expected, receive.limit),
      Stream.mapChunks((chunk) => {
        tally(sizeOf(chunk))
        return chunk
      }),
      gunzip(slot.name),
      bounded(undefined, receive.limit),
      Stream.runForEachChunk(onChunk)
    )
  }
  return Effect.suspend(() => {
    const count = counter(receive.expected, receive.limit)
    return response.stream.pipe(
      Stream.runForEachChunk((chunk): Effect.Effect<void, BodyStopped | E> => {
        const bytes = sizeOf(chunk)
        const stopped = count.add(bytes)
        if (stopped !== undefined) return Effect.fail(stopped)
        tally(bytes)
        return onChunk(chunk)
      }),
      Effect.zipRight(Effect.suspend(() => {
        const stopped = count.end()
        return stopped === undefined ? Effect.void : Effect.fail(stopped)
      }))
    )
  })
}

/**
 * One exchange with the file host, in its own scope (closing it aborts the request): a request for what
 * the state asks, the answer decided on, and, when it is the file, its body run into the receiver and
 * decided on in turn.
 */
const exchange = <E>(
  env: Env,
  slot: Slot,
  limits: Rules.Limits,
  state: Rules.State,
  receiver: Receiver<E>
): Effect.Effect<
  readonly [Rules.State, Rules.Decision, generation: number],
  TransferError | E,
  Scope.Scope
> =>
  Effect.gen(function*() {
    const { generation, url } = yield* env.urls.current(slot)
    const range = Rules.rangeOf(state)
    const request = HttpClientRequest.get(url.url, {
      headers: range === undefined
        ? { "accept-encoding": "identity" }
        : { "accept-encoding": "identity", range: `bytes=${range.from}-`, "if-range": range.ifRange }
    })
    if (range !== undefined) yield* Metrics.recordRetry("file", "resume")
    const sentAt = yield* Clock.currentTimeMillis
    const answer = yield* HttpClient.withScope(env.http).execute(request).pipe(
      Effect.timeoutFail({ duration: env.timeout, onTimeout: () => "timeout" as const }),
      Effect.either
    )
    const now = yield* Clock.currentTimeMillis
    if (Either.isLeft(answer)) {
      const timedOut = answer.left === "timeout"
      yield* Metrics.recordRequest("file", timedOut ? "timeout" : "transport", now - sentAt)
      const detail = answer.left === "timeout"
        ? `no headers within ${Duration.format(env.timeout)}`
        : transportDetail(answer.left)
      return [...Rules.decide(limits, state, { _tag: "NoAnswer", timedOut, detail }), generation] as const
    }
    const response = answer.right
    yield* Metrics.recordRequest("file", response.status, now - sentAt)
    const [next, decision] = Rules.decide(limits, state, {
      _tag: "Answer",
      status: response.status,
      headers: headersOf(response, now)
    })
    if (decision._tag !== "Receive") return [next, decision, generation] as const

    const onChunk = yield* receiver(decision.start)
    let received = 0
    const end = yield* withSpeedRules(env.speed, (tally) =>
      runBody(slot, response, decision, tally, (chunk) => {
        received += sizeOf(chunk)
        return onChunk(chunk)
      })).pipe(
        Effect.as<Rules.BodyEnd>("complete"),
        // A body cut short, whatever the cause, is decided on like any other end.
        Effect.catchIf(isCut, (cut) => Effect.succeed<Rules.BodyEnd>(cut instanceof BodyStopped ? cut.end : "dropped")),
        Effect.ensuring(Effect.suspend(() => Metric.incrementBy(Metrics.bytesDownloaded, received)))
      )
    return [...Rules.decide(limits, next, { _tag: "BodyEnded", end, received }), generation] as const
  })

/**
 * The bytes of one file of a task, fetched with plain GETs from its signed URL, into `receiver`, following
 * `Rules.decide` after each answer and each body until the file is complete (the final state) or failed:
 *
 * - 408, 429, 5xx and answers that do not come (a transport failure, no headers within `timeout`) are
 *   retried with the file host's schedule, which starts afresh after each body;
 * - a body cut short (dropped, short, idle, slow) is continued with `Range` and `If-Range` when its entity has
 *   a strong ETag, started over otherwise; at most `maxResumes` cuts in a row without progress;
 * - a URL expired by the clock, or refused with 403, is fetched afresh.
 *
 * `from` is where an earlier run left the file.
 *
 * @internal
 */
export const transfer = <E>(
  env: Env,
  slot: Slot,
  from: Rules.Start,
  receiver: Receiver<E>
): Effect.Effect<Rules.State, TransferError | E> =>
  Effect.gen(function*() {
    const lowSpeed = env.speed.lowSpeed
    const limits: Rules.Limits = {
      fileName: slot.name,
      maxResumes: env.maxResumes,
      maxFileBytes: env.maxFileBytes,
      trickleBytes: lowSpeed === undefined ? 1 : lowSpeed.bytesPerSecond * Duration.toSeconds(lowSpeed.over)
    }
    const retries = yield* Schedule.driver(Retry.schedule(env.policy))
    let state = Rules.initial(from)
    // Each turn is one exchange; `Rules.decide` bounds how many there can be.
    for (;;) {
      const [next, decision, generation] = yield* Effect.scoped(exchange(env, slot, limits, state, receiver))
      state = next
      switch (decision._tag) {
        case "Complete":
          return state
        case "Fail":
          return yield* decision.error
        case "Retry":
          yield* Effect.mapError(retries.next(decision), () => decision.error)
          break
        case "Refresh":
          yield* retries.reset
          yield* env.urls.refresh(slot, generation)
          break
        case "Request":
        case "Receive":
          yield* retries.reset
      }
    }
  })
