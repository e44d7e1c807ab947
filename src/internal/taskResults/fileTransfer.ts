import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { identity } from "effect/Function"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import type { DownloadError } from "../../TaskResultsError.js"
import type * as TextRevealClient from "../../TextRevealClient.js"
import * as Metrics from "../metrics.js"
import { codeOf } from "../redact.js"
import { parseRetryAfter } from "../retryAfter.js"
import type * as RetryPolicy from "../retryPolicy.js"
import { BodyStopped, bounded, type SpeedRules, withSpeedRules } from "./bodyLimits.js"
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
 * Where the bytes of a transfer go: for each body, a sink for its bytes, which belong to the file from
 * `start.offset` on (0: the file starts over).
 *
 * @internal
 */
export type Receiver<E> = (start: Rules.Start) => Effect.Effect<Sink.Sink<unknown, Uint8Array, never, E>, E>

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
 * The bytes of one body as the file's: counted against what was announced, watched for speed, and decoded
 * when the host encoded them (counted again against `limit`, which a small body can inflate past).
 */
const bodyOf = (
  slot: Slot,
  response: HttpClientResponse.HttpClientResponse,
  receive: Extract<Rules.Decision, { readonly _tag: "Receive" }>,
  count: <E, R>(body: Stream.Stream<Uint8Array, E, R>) => Stream.Stream<Uint8Array, E, R>
): Stream.Stream<Uint8Array, HttpClientError.ResponseError | BodyStopped | DownloadError> =>
  response.stream.pipe(
    bounded(receive.expected, receive.limit),
    count,
    receive.encoded ? (bytes) => bounded(undefined, receive.limit)(gunzip(slot.name)(bytes)) : identity
  )

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

    const sink = yield* receiver(decision.start)
    let received = 0
    const end = yield* withSpeedRules(env.speed, (count) =>
      bodyOf(slot, response, decision, count).pipe(
        Stream.mapChunks((chunk) => {
          for (const bytes of chunk) received += bytes.length
          return chunk
        }),
        Stream.run(sink)
      )).pipe(
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
