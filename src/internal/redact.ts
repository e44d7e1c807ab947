import * as Headers from "@effect/platform/Headers"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"

/**
 * A copy of a request with no secret in it: no `Authorization` header and no body (a token request's body
 * holds the API secret). What is left still says which call failed.
 *
 * @internal
 */
export const redactRequest = (request: HttpClientRequest.HttpClientRequest): HttpClientRequest.HttpClientRequest =>
  HttpClientRequest.get(request.url, {
    urlParams: request.urlParams,
    headers: Headers.remove(request.headers, ["authorization", "cookie"])
  }).pipe(HttpClientRequest.setMethod(request.method))

/**
 * A body-less copy of a response, answering to a redacted request. A response keeps the request that
 * produced it and its `toJSON` prints that request's headers, so an error holding the original would print
 * the token. The body has been read by the time an error is made; status and headers are what is left.
 *
 * @internal
 */
export const redactResponse = (
  response: HttpClientResponse.HttpClientResponse,
  request: HttpClientRequest.HttpClientRequest
): HttpClientResponse.HttpClientResponse => {
  // `Response` only takes statuses 200-599; a status outside them is kept in `statusText`.
  const inRange = response.status >= 200 && response.status <= 599
  return HttpClientResponse.fromWeb(
    request,
    new Response(null, {
      status: inRange ? response.status : 599,
      statusText: inRange ? "" : String(response.status),
      headers: Headers.remove(response.headers, ["set-cookie"])
    })
  )
}

/**
 * The same error, holding only redacted copies of its request and response.
 *
 * @internal
 */
export const redactError = (error: HttpClientError.HttpClientError): HttpClientError.HttpClientError => {
  const request = redactRequest(error.request)
  return error._tag === "RequestError"
    ? new HttpClientError.RequestError({ ...fieldsOf(error), request })
    : new HttpClientError.ResponseError({
      ...fieldsOf(error),
      request,
      response: redactResponse(error.response, request)
    })
}

const fieldsOf = <
  E extends { readonly cause?: unknown; readonly description?: string | undefined; readonly reason: string }
>(
  error: E
) => ({
  reason: error.reason as E["reason"],
  ...(error.cause === undefined ? {} : { cause: error.cause }),
  ...(error.description === undefined ? {} : { description: error.description })
})

/**
 * The same effect, with every `HttpClientError` it fails with redacted (see {@link redactError}).
 *
 * @internal
 */
export const redactErrors = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  // `redactError` keeps the error's class, so the error type is unchanged.
  Effect.mapError(self, (error) => HttpClientError.isHttpClientError(error) ? redactError(error) as E : error)
