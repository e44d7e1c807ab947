import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"

/**
 * The body as text. A body cut short (a connection reset mid-body) is a transport failure, retried as such,
 * not a `Decode` error: nothing was wrong with what arrived.
 *
 * @internal
 */
export const readText = (
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<string, HttpClientError.RequestError> =>
  Effect.mapError(response.text, (error) =>
    new HttpClientError.RequestError({
      request: response.request,
      reason: "Transport",
      cause: error.cause,
      description: "the connection broke while the response body was read"
    }))

/**
 * The body parsed as JSON: a body that is not JSON is a `ResponseError` with reason `Decode`.
 *
 * @internal
 */
export const readJson = (
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<unknown, HttpClientError.HttpClientError> =>
  Effect.flatMap(readText(response), (text) =>
    Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (cause) =>
        new HttpClientError.ResponseError({
          request: response.request,
          response,
          reason: "Decode",
          cause,
          description: "the body is not JSON"
        })
    }))
