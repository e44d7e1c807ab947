import * as Headers from "@effect/platform/Headers"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Predicate from "effect/Predicate"
import type { Scrub } from "./secrets.js"

/**
 * Response headers an error may keep, each with the shape its value must have: they say what happened and
 * leave no room for an echoed secret. A request id is kept only where the request's secrets are known and
 * blanked out of it.
 */
const keptResponseHeaders: ReadonlyArray<readonly [string, RegExp]> = [
  ["content-type", /^[\w.+-]+\/[\w.+-]+(\s*;\s*[\w-]+=[\w."-]+)*$/],
  ["retry-after", /^(\d{1,10}|[A-Z][a-z]{2},? [\w :,-]{10,40})$/],
  ["date", /^[A-Z][a-z]{2},? [\w :,-]{10,40}$/]
]

const requestIdHeaders = ["x-request-id", "request-id", "x-amzn-requestid"]

/**
 * The URL without its query and fragment: a signed URL carries its signature in the query.
 *
 * @internal
 */
export const withoutQuery = (url: string): string => {
  const end = url.search(/[?#]/)
  return end === -1 ? url : url.slice(0, end)
}

/**
 * A copy of a request that says which call failed and nothing more: method and URL without its query; no
 * header, no body (a token request's body holds the API secret).
 *
 * @internal
 */
export const redactRequest = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.make(request.method)(withoutQuery(request.url))

/**
 * A body-less copy of a response with only the allowed headers, answering to a redacted request. A response
 * keeps the request that produced it, and its `toJSON` prints that request's headers. Request ids are kept
 * only when `scrub` can blank the request's secrets out of them.
 *
 * @internal
 */
export const redactResponse = (
  response: HttpClientResponse.HttpClientResponse,
  request: HttpClientRequest.HttpClientRequest,
  scrub: Scrub | undefined
): HttpClientResponse.HttpClientResponse => {
  // `Response` only takes statuses 200-599; another status is kept in `statusText`.
  const inRange = response.status >= 200 && response.status <= 599
  const headers = response.headers
  const kept: Record<string, string> = {}
  for (const [name, shape] of keptResponseHeaders) {
    const value = headers[name]
    if (value !== undefined && shape.test(value)) kept[name] = value
  }
  if (scrub !== undefined) {
    for (const name of requestIdHeaders) {
      const value = headers[name]
      // Only values a header can carry: a hostile value would make `Response` throw.
      if (value !== undefined && /^[\x21-\x7e]{1,128}$/.test(value)) kept[name] = scrub(value)
    }
  }
  return HttpClientResponse.fromWeb(
    request,
    new Response(null, {
      status: inRange ? response.status : 599,
      statusText: inRange ? "" : String(response.status),
      headers: Headers.fromInput(kept)
    })
  )
}

/**
 * The first `code` (`ECONNREFUSED`, `ENOTFOUND`, `UND_ERR_…`, TLS codes) along a cause chain.
 *
 * @internal
 */
export const codeOf = (cause: unknown, depth = 0): string | undefined => {
  if (depth > 4 || !Predicate.isObject(cause)) return undefined
  if ("code" in cause && Predicate.isString(cause.code)) return cause.code
  return "cause" in cause ? codeOf(cause.cause, depth + 1) : undefined
}

/** The innermost message along a cause chain (`fetch failed` says less than what caused it). */
const messageOf = (cause: unknown, depth = 0): string | undefined => {
  if (depth > 4 || !Predicate.isObject(cause)) return undefined
  const inner = "cause" in cause ? messageOf(cause.cause, depth + 1) : undefined
  return inner ?? ("message" in cause && Predicate.isString(cause.message) ? cause.message : undefined)
}

const hostOf = (url: string): string => {
  const match = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/?#]*)/i.exec(url)
  return match?.[1] ?? url
}

/**
 * What a transport failure was, in words: the host and the cause (`ECONNREFUSED`, `ENOTFOUND`, a TLS error,
 * a timeout). Only the code and the message are kept: a cause may hold the request it failed.
 *
 * @internal
 */
export const describeTransport = (error: HttpClientError.RequestError): string => {
  const host = hostOf(error.request.url)
  if (Cause.isTimeoutException(error.cause)) return `${host}: ${error.description ?? "timed out"}`
  const code = codeOf(error.cause)
  const message = messageOf(error.cause)?.slice(0, 200)
  const what = [code, message !== undefined && message !== code ? message : undefined].filter(Predicate.isString)
  return `${host}: ${what.length > 0 ? what.join(" ") : error.description ?? "transport failure"}`
}

/** Secrets blanked out, and the query of any URL quoted (a signature) cut off. */
const clean = (scrub: Scrub | undefined, text: string): string =>
  (scrub === undefined ? text : scrub(text)).replace(/(\bhttps?:\/\/[^\s?#]*)[?#]\S*/g, "$1")

const describeResponse = (error: HttpClientError.ResponseError): string | undefined =>
  error.description ?? (error.reason === "StatusCode" ? `unexpected status ${error.response.status}` : undefined)

/**
 * The same error, holding only redacted copies of its request and response (see {@link redactRequest} and
 * {@link redactResponse}). A transport failure's cause is replaced by its description; a timeout keeps
 * its `TimeoutException`. `scrub` blanks the request's secrets out of what is kept; without it, nothing
 * that could echo one (a request id) is kept.
 *
 * @internal
 */
export const redactError = <E extends HttpClientError.HttpClientError>(error: E, scrub: Scrub | undefined): E =>
  // The copy is of the same class as the original.
  redactAny(error, scrub) as E

const redactAny = (
  error: HttpClientError.HttpClientError,
  scrub: Scrub | undefined
): HttpClientError.HttpClientError => {
  const request = redactRequest(error.request)
  if (error._tag === "RequestError") {
    return new HttpClientError.RequestError({
      request,
      reason: error.reason,
      description: clean(
        scrub,
        error.reason === "Transport" ? describeTransport(error) : error.description ?? error.reason
      ),
      ...(Cause.isTimeoutException(error.cause) ? { cause: error.cause } : {})
    })
  }
  const description = describeResponse(error)
  return new HttpClientError.ResponseError({
    request,
    response: redactResponse(error.response, request, scrub),
    reason: error.reason,
    ...(description === undefined ? {} : { description: clean(scrub, description) })
  })
}
