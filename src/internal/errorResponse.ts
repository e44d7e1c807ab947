import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as TextRevealError from "../TextRevealError.js"
import { readText } from "./body.js"
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

const parseJson = Schema.decodeUnknownOption(Schema.parseJson())

const excerptOf = (text: string): string | undefined => {
  const readable = text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim()
  if (readable === "") return undefined
  return readable.length > excerptLength ? `${readable.slice(0, excerptLength)}…` : readable
}

const nonEmptyString = (u: unknown): string | undefined => Predicate.isString(u) && u !== "" ? u : undefined

/** @internal */
export const readBody = (text: string): ReadableBody => {
  const json = Option.getOrUndefined(parseJson(text))
  if (!Predicate.isRecord(json)) {
    return { message: undefined, reason: undefined, errors: [], excerpt: excerptOf(text) }
  }
  // The API's form is `{ message, reason }`; the token endpoint's is OAuth's `{ error, error_description }`.
  const message = nonEmptyString(json.message) ?? nonEmptyString(json.error_description)
  return {
    message,
    reason: nonEmptyString(json.reason) ?? nonEmptyString(json.error),
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
 * Reads the body with the request's secrets blanked out: an error page may echo what it was sent.
 */
const read = Effect.fnUntraced(function*(
  response: HttpClientResponse.HttpClientResponse,
  secrets: ReadonlyArray<Redacted.Redacted<string>>
) {
  const text = secrets.reduce(
    (text, secret) => Redacted.value(secret) === "" ? text : text.replaceAll(Redacted.value(secret), "<redacted>"),
    yield* readText(response)
  )
  const body = readBody(text)
  return {
    body,
    common: {
      message: describe(response.status, body),
      reason: body.reason ?? "unknown",
      ...(body.excerpt === undefined ? {} : { excerpt: body.excerpt })
    }
  }
})

/** 429, 5xx and undocumented statuses: mapped the same way for the API and the token endpoint. */
const otherStatus = Effect.fnUntraced(function*(
  response: HttpClientResponse.HttpClientResponse,
  attempts: number,
  { body, common }: Effect.Effect.Success<ReturnType<typeof read>>
) {
  const status = response.status
  if (status === 429) {
    const retryAfter = parseRetryAfter(response.headers["retry-after"], yield* Clock.currentTimeMillis)
    return yield* new TextRevealError.TooManyRequests({
      status,
      ...common,
      attempts,
      ...(Option.isSome(retryAfter) ? { retryAfter: retryAfter.value } : {})
    })
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

/**
 * Maps a non-2xx API response to the typed error of its status, from the documented JSON body when there
 * is one. Statuses the API does not document stay a `ResponseError` with reason `StatusCode`.
 *
 * @internal
 */
export const fromResponse = Effect.fnUntraced(function*(
  response: HttpClientResponse.HttpClientResponse,
  attempts: number,
  token: Redacted.Redacted<string>
) {
  const readable = yield* read(response, [token])
  const { body, common } = readable
  switch (response.status) {
    case 400:
      return yield* new TextRevealError.Invalid({ status: 400, ...common, errors: body.errors })
    case 401:
      return yield* new TextRevealError.Unauthorized({ status: 401, ...common })
    case 403:
      return yield* new TextRevealError.Forbidden({ status: 403, ...common })
    case 404:
      return yield* new TextRevealError.NotFound({ status: 404, ...common })
    default:
      return yield* otherStatus(response, attempts, readable)
  }
})

/**
 * Maps a non-2xx answer of the token endpoint: a refusal (400, 401, 403) is `Unauthorized` with the
 * endpoint's message; 429, 5xx and other statuses as for the API.
 *
 * @internal
 */
export const fromTokenResponse = Effect.fnUntraced(function*(
  response: HttpClientResponse.HttpClientResponse,
  attempts: number,
  secrets: ReadonlyArray<Redacted.Redacted<string>>
) {
  const readable = yield* read(response, secrets)
  const status = response.status
  if (status === 400 || status === 401 || status === 403) {
    return yield* new TextRevealError.Unauthorized({
      status: 401,
      ...readable.common,
      message: `The token endpoint refused the credentials (${status}): ${readable.common.message}`
    })
  }
  return yield* otherStatus(response, attempts, readable)
})
