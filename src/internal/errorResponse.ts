import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as TextRevealError from "../TextRevealError.js"
import { readTextPrefix } from "./responseBody.js"
import { parseRetryAfter } from "./retryAfter.js"
import type { Scrub } from "./secrets.js"
import { LenientErrorBody } from "./wire.js"

/** What is read of an error body: enough for a message, never the whole of a hostile one. */
const errorBodyLimit = 64 * 1024

const excerptLength = 200

const decodeErrorBody = Schema.decodeUnknownOption(LenientErrorBody)

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    // Not JSON: the caller keeps an excerpt of the text instead. The `SyntaxError` quotes the body, so it
    // is not kept.
    return undefined
  }
}

/**
 * A short readable excerpt: markup tags removed (not the `<redacted>` mark of a secret), whitespace
 * collapsed. Linear in the text: the tag pattern cannot backtrack over `<` (a body of `<<<<…` costs one pass).
 */
const excerptOf = (text: string): string | undefined => {
  const readable = text.slice(0, 16 * excerptLength).replace(/<(?!redacted>)[^<>]*>/g, " ").replace(/\s+/g, " ").trim()
  if (readable === "") return undefined
  return readable.length > excerptLength ? `${readable.slice(0, excerptLength)}…` : readable
}

const nonEmpty = (s: string | undefined): string | undefined => s === undefined || s.trim() === "" ? undefined : s

interface Readable {
  readonly message: string
  readonly reason: string
  readonly excerpt: string | undefined
  readonly errors: ReadonlyArray<TextRevealError.FieldError>
}

/**
 * Reads what an error body says, bounded and with every secret blanked out: the documented `{ message,
 * reason, errors }` or OAuth's `{ error, error_description }`, each field kept when it has the right type,
 * and an excerpt of any other body.
 */
const readError = (response: HttpClientResponse.HttpClientResponse, scrub: Scrub, what: string) =>
  Effect.map(readTextPrefix(response, errorBodyLimit), (raw): Readable => {
    const text = scrub(raw.slice(0, errorBodyLimit))
    const body = Option.getOrUndefined(decodeErrorBody(parseJson(text)))
    const message = nonEmpty(body?.message ?? body?.error_description)
    const excerpt = message === undefined ? excerptOf(text) : undefined
    return {
      message: message !== undefined
        ? scrub(message).slice(0, 4 * excerptLength)
        : excerpt === undefined
        ? `${what} answered ${response.status} with an empty body`
        : `${what} answered ${response.status}: ${excerpt}`,
      reason: scrub(nonEmpty(body?.reason ?? body?.error) ?? "unknown").slice(0, excerptLength),
      excerpt,
      errors: (body?.errors ?? []).slice(0, 100).map((e) =>
        new TextRevealError.FieldError({
          message: scrub(e.message).slice(0, excerptLength),
          field: scrub(e.field).slice(0, excerptLength),
          reason: scrub(e.reason).slice(0, excerptLength)
        }, true)
      )
    }
  })

/**
 * The API call an answer belongs to: what its errors say about it, and whether a rejected token can be
 * renewed for it.
 *
 * @internal
 */
export interface ApiCall {
  /** `getDownloadUrls`, `getTaskStatus`, `listTasks`, or `GET /path` for another request. */
  readonly method: string
  readonly taskId: string | undefined
  /** Whether a 401 rejects a token the credentials can replace. */
  readonly renewable401: boolean
  /** Whether a 403 may reject a token the credentials can replace (not one obtained for this very request). */
  readonly renewable403: boolean
}

/**
 * How an error names its call at the end of its message: `(getDownloadUrls f47ac10b-…)`.
 *
 * @internal
 */
export const callSuffix = (call: { readonly method: string; readonly taskId?: string | undefined }): string =>
  ` (${call.method}${call.taskId === undefined ? "" : ` ${call.taskId}`})`

const common = (readable: Readable, call?: ApiCall) => ({
  message: call === undefined ? readable.message : `${readable.message}${callSuffix(call)}`,
  reason: readable.reason,
  ...(readable.excerpt === undefined ? {} : { excerpt: readable.excerpt }),
  ...(call === undefined ? {} : { method: call.method, ...(call.taskId === undefined ? {} : { taskId: call.taskId }) })
})

/** The request number of the current attempt, counted by the retry schedule: 1 for the first. */
const currentAttempt = Effect.map(Schedule.CurrentIterationMetadata, (meta) => meta.recurrence + 1)

/**
 * 429, 5xx and undocumented statuses, mapped alike for the API and the token endpoint.
 */
const otherStatus = Effect.fnUntraced(function*(
  response: HttpClientResponse.HttpClientResponse,
  readable: Readable,
  call?: ApiCall
) {
  const status = response.status
  if (status === 429) {
    const retryAfter = parseRetryAfter(response.headers["retry-after"], yield* Clock.currentTimeMillis)
    return yield* new TextRevealError.TooManyRequests({
      status,
      ...common(readable, call),
      attempts: yield* currentAttempt,
      ...(Option.isSome(retryAfter) ? { retryAfter: retryAfter.value } : {})
    })
  }
  if (status >= 500 && status <= 599) {
    return yield* new TextRevealError.ServerError({
      status,
      ...common(readable, call),
      attempts: yield* currentAttempt
    })
  }
  return yield* new HttpClientError.ResponseError({
    request: response.request,
    response,
    reason: "StatusCode",
    description: `unexpected status ${status}${readable.excerpt === undefined ? "" : `: ${readable.excerpt}`}`
  })
})

/**
 * Maps an API answer that is not a success to the typed error of its status, naming the call. A 401 (or a
 * 403) that rejects a token the credentials can replace is marked `renewable`. Statuses the API does not
 * document stay a `ResponseError` with reason `StatusCode`.
 *
 * @internal
 */
export const fromApiResponse = Effect.fnUntraced(function*(
  response: HttpClientResponse.HttpClientResponse,
  scrub: Scrub,
  call: ApiCall
) {
  const readable = yield* readError(response, scrub, "TextReveal")
  switch (response.status) {
    case 400:
      return yield* new TextRevealError.Invalid({ status: 400, ...common(readable, call), errors: readable.errors })
    case 401:
      return yield* new TextRevealError.Unauthorized({
        status: 401,
        ...common(readable, call),
        ...(call.renewable401 ? { renewable: true } : {})
      })
    case 403:
      return yield* new TextRevealError.Forbidden({
        status: 403,
        ...common(readable, call),
        ...(call.renewable403 ? { renewable: true } : {})
      })
    case 404:
      return yield* new TextRevealError.NotFound({ status: 404, ...common(readable, call) })
    default:
      return yield* otherStatus(response, readable, call)
  }
})

/**
 * Maps an answer of the token endpoint other than 200: a refusal (400, 401, 403) is `Unauthorized`
 * carrying the endpoint's own status and message; 429, 5xx and other statuses as for the API.
 *
 * @internal
 */
export const fromTokenResponse = Effect.fnUntraced(function*(
  response: HttpClientResponse.HttpClientResponse,
  scrub: Scrub
) {
  const readable = yield* readError(response, scrub, "The token endpoint")
  const status = response.status
  if (status === 400 || status === 401 || status === 403) {
    return yield* new TextRevealError.Unauthorized({
      status,
      ...common(readable),
      message: `The token endpoint refused the credentials (${status}): ${readable.message}`
    })
  }
  return yield* otherStatus(response, readable)
})
