import type * as Duration from "effect/Duration"
import { DownloadError } from "../../TaskResultsError.js"

/**
 * Where the bytes of a body belong: `offset` 0 starts the file (over, when bytes were had before); a larger
 * `offset` continues it. `size` is the file's length when the host said it; `etag` the entity the bytes
 * belong to, when the host named one.
 *
 * @internal
 */
export interface Start {
  readonly offset: number
  readonly size: number | undefined
  readonly etag: string | undefined
}

/**
 * What a transfer knows of one file between two exchanges with the file host. Plain data: every rule below
 * is a function of it and of what the host just did.
 *
 * @internal
 */
export interface State {
  /** Bytes of the file had, from its first byte (on disk, or emitted). */
  readonly offset: number
  /** The strong ETag of the entity those bytes belong to. Without one they can only be started over. */
  readonly validator: string | undefined
  /** The entity's length, when the host announced it. */
  readonly size: number | undefined
  /** Drops in a row that brought no new byte (or only a trickle). */
  readonly stalls: number
  /** The most bytes ever had: a drop is progress only past it. */
  readonly mark: number
  /** The URL was fetched afresh after a 403 and no byte has come since: another 403 is final. */
  readonly refreshed: boolean
}

/**
 * What the shell needs besides the state: the file's name (for messages) and the bounds.
 *
 * @internal
 */
export interface Limits {
  readonly fileName: string
  readonly maxResumes: number
  readonly maxFileBytes: number
  /**
   * The bytes a body stopped by the idle or low-speed rule must have brought to count as progress (the
   * low-speed rule's bytes per window): fewer is a trickle, however long it went on.
   */
  readonly trickleBytes: number
}

/**
 * The headers of an answer that matter here, read once by the shell.
 *
 * @internal
 */
export interface Headers {
  readonly etag: string | undefined
  readonly contentLength: number | undefined
  readonly contentRange: string | undefined
  /** A `Content-Encoding` other than `identity`: the body's bytes are not the file's. */
  readonly encoded: boolean
  /** `Retry-After`, read against the clock. */
  readonly retryAfter: Duration.Duration | undefined
}

/**
 * How a body ended: every byte announced arrived (`complete`), or it was cut: `dropped` (the connection
 * failed), `short` (it ended before its `Content-Length`), `idle` (nothing for `idleTimeout`), `slow` (under
 * the low-speed limit), `overflow` (a byte past its announced length, or past `maxFileBytes`).
 *
 * @internal
 */
export type BodyEnd = "complete" | "dropped" | "short" | "idle" | "slow" | "overflow"

/**
 * What just happened to the transfer of one file.
 *
 * @internal
 */
export type Outcome =
  /** No answer: the connection failed, or the headers did not arrive within the time limit. */
  | { readonly _tag: "NoAnswer"; readonly timedOut: boolean; readonly detail: string }
  | { readonly _tag: "Answer"; readonly status: number; readonly headers: Headers }
  /** The body that `Receive` accepted ended, after `received` bytes of the file. */
  | { readonly _tag: "BodyEnded"; readonly end: BodyEnd; readonly received: number }

/**
 * A failure before any byte of a body that the retry schedule may retry: 408, 429, 5xx, or no answer.
 *
 * @internal
 */
export interface Retryable {
  /** The status answered, or why none was. */
  readonly status: number | "transport" | "timeout"
  readonly retryAfter: Duration.Duration | undefined
  /** What the file fails with when the schedule gives up. */
  readonly error: DownloadError
}

/**
 * What to do next.
 *
 * @internal
 */
export type Decision =
  /** Read the body: its bytes belong at `start.offset`; `expected` of them are announced, `limit` at most. */
  | {
    readonly _tag: "Receive"
    readonly start: Start
    readonly expected: number | undefined
    readonly limit: number
    readonly encoded: boolean
  }
  /** Send the next request (see {@link rangeOf}) at once. */
  | { readonly _tag: "Request" }
  /** Send the same request again after the retry schedule's wait; when it gives up, fail with `error`. */
  | ({ readonly _tag: "Retry" } & Retryable)
  /** Fetch fresh signed URLs (the host refused this one), then send the next request. */
  | { readonly _tag: "Refresh"; readonly status: number }
  /** Every byte of the file is had. */
  | { readonly _tag: "Complete" }
  | { readonly _tag: "Fail"; readonly error: DownloadError }

/**
 * The state before the first request: `offset` bytes of the entity `etag` (of `size` bytes) already had,
 * e.g. in the temporary file of an earlier run; an ETag that is not strong cannot be continued.
 *
 * @internal
 */
export const initial = (from: Start): State => ({
  offset: from.offset,
  validator: isStrong(from.etag) ? from.etag : undefined,
  size: from.size,
  stalls: 0,
  mark: from.offset,
  refreshed: false
})

/**
 * The range the next request asks for: the rest of the file from `offset`, only if the bytes had belong to
 * an entity with a strong validator (sent as `If-Range`); otherwise the whole file.
 *
 * @internal
 */
export const rangeOf = (state: State): { readonly from: number; readonly ifRange: string } | undefined =>
  state.offset > 0 && state.validator !== undefined ? { from: state.offset, ifRange: state.validator } : undefined

const isStrong = (etag: string | undefined): etag is string =>
  etag !== undefined && etag.length > 0 && !etag.startsWith("W/")

/** `bytes 100-199/1000`, `bytes 100-199/*`, or `bytes * /1000` (416). */
const parseContentRange = (value: string | undefined) => {
  const match = value === undefined ? null : /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/i.exec(value.trim())
  if (match === null) return undefined
  return {
    start: match[1] === undefined ? undefined : Number(match[1]),
    end: match[2] === undefined ? undefined : Number(match[2]),
    total: match[3] === undefined || match[3] === "*" ? undefined : Number(match[3])
  }
}

/** @internal */
export const retryableStatus = (status: number): boolean =>
  status === 408 || status === 429 || (status >= 500 && status <= 599)

const fail = (limits: Limits, reason: DownloadError["reason"], detail: string, status?: number): Decision => ({
  _tag: "Fail",
  error: new DownloadError({
    fileName: limits.fileName,
    reason,
    message: `${limits.fileName}: ${detail}`,
    ...(status === undefined ? {} : { status })
  })
})

/**
 * A cut that may be continued: counted against `maxResumes` unless it brought bytes past every earlier
 * one (a trickle under the low-speed limit never counts as progress), then the next request: the rest of
 * the file when its entity is known, the whole file otherwise.
 */
const resume = (limits: Limits, state: State, what: string): readonly [State, Decision] => {
  const progress = state.offset > state.mark
  const stalls = progress ? 0 : state.stalls + 1
  const next: State = { ...state, stalls, mark: Math.max(state.mark, state.offset) }
  if (stalls > limits.maxResumes) {
    return [next, fail(limits, "TooManyResumes", `${what} ${stalls} times without progress (at byte ${state.offset})`)]
  }
  return [next, { _tag: "Request" }]
}

/** The whole file from its first byte: the answer to a plain GET, or a range covering all of it. */
const whole = (limits: Limits, state: State, headers: Headers, size: number | undefined) => {
  const etag = headers.etag
  const announced = headers.encoded ? undefined : size
  if (announced !== undefined && announced > limits.maxFileBytes) {
    return [
      state,
      fail(
        limits,
        "SizeMismatch",
        `the file host announced ${announced} bytes, more than maxFileBytes (${limits.maxFileBytes})`
      )
    ] as const
  }
  const next: State = {
    ...state,
    offset: 0,
    validator: !headers.encoded && isStrong(etag) ? etag : undefined,
    size: announced
  }
  const decision: Decision = {
    _tag: "Receive",
    start: { offset: 0, size: announced, etag },
    // An encoded body is counted on its encoded bytes, against its own Content-Length.
    expected: headers.encoded ? headers.contentLength : announced,
    limit: limits.maxFileBytes,
    encoded: headers.encoded
  }
  return [next, decision] as const
}

const answered = (
  limits: Limits,
  state: State,
  status: number,
  headers: Headers
): readonly [State, Decision] => {
  const range = rangeOf(state)
  switch (status) {
    case 200:
      return whole(limits, state, headers, headers.contentLength)
    case 206: {
      const content = parseContentRange(headers.contentRange)
      // Only a range ending at the last byte of a file of known size, as long as its Content-Length says.
      const whole206 = content !== undefined && content.start !== undefined && content.total !== undefined &&
          content.end === content.total - 1 && content.start <= content.end && !headers.encoded &&
          (headers.contentLength === undefined || headers.contentLength === content.total - content.start)
        ? { start: content.start, total: content.total }
        : undefined
      if (whole206 !== undefined && range === undefined && whole206.start === 0) {
        // A 206 for the whole file to a plain GET is the whole file.
        return whole(limits, state, headers, whole206.total)
      }
      const fits = whole206 !== undefined && range !== undefined && whole206.start === range.from &&
          headers.etag === range.ifRange && (state.size === undefined || whole206.total === state.size)
        ? whole206
        : undefined
      if (fits === undefined || range === undefined) {
        // Only exactly the rest of the same entity continues a file: anything else starts it over.
        return resume(limits, { ...state, validator: undefined }, "the file host answered a range that does not fit")
      }
      return [
        { ...state, size: fits.total },
        {
          _tag: "Receive",
          start: { offset: range.from, size: fits.total, etag: headers.etag },
          expected: fits.total - range.from,
          limit: limits.maxFileBytes - range.from,
          encoded: false
        }
      ]
    }
    case 416: {
      const content = parseContentRange(headers.contentRange)
      if (range !== undefined && content?.total === range.from && (state.size ?? range.from) === range.from) {
        // The bytes had are the whole file (an earlier run died before the rename).
        return [{ ...state, size: range.from }, { _tag: "Complete" }]
      }
      if (range === undefined) return [state, fail(limits, "Status", "the file host answered 416", 416)]
      return resume(limits, { ...state, validator: undefined }, "the file host refused the range")
    }
    case 403:
      if (state.refreshed) {
        return [state, fail(limits, "Expired", "the file host refused a freshly signed URL as expired", 403)]
      }
      return [{ ...state, refreshed: true }, { _tag: "Refresh", status }]
    default: {
      if (!retryableStatus(status)) {
        return [state, fail(limits, "Status", `the file host answered ${status}`, status)]
      }
      const error = new DownloadError({
        fileName: limits.fileName,
        reason: "Status",
        status,
        message: `${limits.fileName}: the file host answered ${status}, retries exhausted`
      })
      return [state, { _tag: "Retry", status, retryAfter: headers.retryAfter, error }]
    }
  }
}

const cuts: Record<Exclude<BodyEnd, "complete" | "overflow">, string> = {
  dropped: "the connection dropped",
  short: "the body ended short",
  idle: "the body went idle",
  slow: "the body was slower than the low-speed limit"
}

/**
 * What happens after `outcome`, from `state`: the one place that says when a file is continued, started
 * over, fetched afresh, retried, complete or failed.
 *
 * @internal
 */
export const decide = (limits: Limits, state: State, outcome: Outcome): readonly [State, Decision] => {
  switch (outcome._tag) {
    case "NoAnswer": {
      const error = new DownloadError({
        fileName: limits.fileName,
        reason: "Transport",
        message: `${limits.fileName}: no answer from the file host (${outcome.detail})`
      })
      return [state, {
        _tag: "Retry",
        status: outcome.timedOut ? "timeout" : "transport",
        retryAfter: undefined,
        error
      }]
    }
    case "Answer":
      return answered(limits, state, outcome.status, outcome.headers)
    case "BodyEnded": {
      const offset = state.offset + outcome.received
      const refreshed = outcome.received > 0 ? false : state.refreshed
      const next: State = { ...state, offset, refreshed }
      switch (outcome.end) {
        case "complete":
          return [next, { _tag: "Complete" }]
        case "overflow":
          return [
            next,
            fail(
              limits,
              "SizeMismatch",
              next.size === undefined
                ? `the file host sent more than maxFileBytes (${limits.maxFileBytes})`
                : `the file host sent more than the ${next.size} bytes it announced`
            )
          ]
        case "idle":
        case "slow":
          // A trickle is never progress: otherwise a host sending a byte a second would never fail.
          return resume(
            limits,
            outcome.received < limits.trickleBytes ? { ...next, mark: Math.max(state.mark, offset) } : next,
            cuts[outcome.end]
          )
        default:
          return resume(limits, next, cuts[outcome.end])
      }
    }
  }
}
