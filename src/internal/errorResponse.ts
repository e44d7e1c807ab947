import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as TextRevealError from "../TextRevealError.js"
import { parseRetryAfter } from "./retryAfter.js"

const excerptLength = 200

/** What could be read of an error body: the documented fields that were there, and an excerpt otherwise. */
interface ReadableBody {
  readonly message: string | undefined
  readonly reason: string | undefined
  readonly errors: ReadonlyArray<TextRevealError.FieldError>
  readonly excerpt: string | undefined
}

const decodeFieldErrors = Schema.decodeUnknownOption(Schema.Array(TextRevealError.FieldError))

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    // Not JSON: the caller keeps an excerpt of the text instead.
    return undefined
  }
}

const excerptOf = (text: string): string | undefined => {
  const readable = text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim()
  if (readable === "") return undefined
  return readable.length > excerptLength ? `${readable.slice(0, excerptLength)}…` : readable
}

/** @internal */
export const readBody = (text: string): ReadableBody => {
  const json = parseJson(text)
  if (!Predicate.isRecord(json)) {
    return { message: undefined, reason: undefined, errors: [], excerpt: excerptOf(text) }
  }
  const message = Predicate.isString(json.message) && json.message !== "" ? json.message : undefined
  return {
    message,
    reason: Predicate.isString(json.reason) ? json.reason : undefined,
    errors: Option.getOrElse(decodeFieldErrors(json.errors), () => []),
    excerpt: message === undefined ? excerptOf(text) : undefined
  }
}

const describe = (status: number, body: ReadableBody): string =>
  body.message ??
    (body.excerpt === undefined
      ? `TextReveal answered ${status} with an empty body`
      : `TextReveal answered ${status}: ${body.excerpt}`)

/**
 * Maps a non-2xx response to the typed error of its status, from the documented JSON body when there is
 * one. Statuses the API does not document stay a `ResponseError` with reason `StatusCode`.
 *
 * @internal
 */
export const fromResponse = Effect.fnUntraced(function*(
  response: HttpClientResponse.HttpClientResponse,
  attempts: number
) {
  const body = readBody(yield* response.text)
  const status = response.status
  const common = {
    message: describe(status, body),
    reason: body.reason ?? "unknown",
    ...(body.excerpt === undefined ? {} : { excerpt: body.excerpt })
  }
  switch (status) {
    case 400:
      return yield* new TextRevealError.Invalid({ status, ...common, errors: body.errors })
    case 401:
      return yield* new TextRevealError.Unauthorized({ status, ...common })
    case 403:
      return yield* new TextRevealError.Forbidden({ status, ...common })
    case 404:
      return yield* new TextRevealError.NotFound({ status, ...common })
    case 429: {
      const retryAfter = parseRetryAfter(response.headers["retry-after"], yield* Clock.currentTimeMillis)
      return yield* new TextRevealError.TooManyRequests({
        status,
        ...common,
        attempts,
        ...(Option.isSome(retryAfter) ? { retryAfter: retryAfter.value } : {})
      })
    }
  }
  if (status >= 500 && status <= 599) {
    return yield* new TextRevealError.ServerError({ status, ...common, attempts })
  }
  return yield* new HttpClientError.ResponseError({
    request: response.request,
    response,
    reason: "StatusCode",
    description: `unexpected status ${status}${body.excerpt === undefined ? "" : `: ${body.excerpt}`}`
  })
})
