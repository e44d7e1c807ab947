/**
 * The TextReveal API as an Effect service.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { flow, identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Ref from "effect/Ref"
import * as Credentials from "./Credentials.js"
import * as DownloadUrl from "./DownloadUrl.js"
import { readJson } from "./internal/body.js"
import { fromResponse } from "./internal/errorResponse.js"
import { redactErrors } from "./internal/redact.js"
import * as RetryPolicy from "./internal/retryPolicy.js"
import { validateTaskId } from "./internal/validateTaskId.js"
import { userAgent } from "./internal/version.js"
import { withRetries } from "./internal/withRetries.js"
import * as TextRevealError from "./TextRevealError.js"

/**
 * The documented API base URL.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultBaseUrl = "https://api.textreveal.com/v3"

/**
 * Retries of rate-limited (429) calls.
 *
 * @since 0.1.0
 * @category options
 */
export interface RateLimitRetryOptions {
  /** How many retries at most. Default: 8. */
  readonly times?: number | undefined
  /** The first backoff bound when no `Retry-After` is sent; it doubles each retry. Default: 1 second. */
  readonly base?: Duration.DurationInput | undefined
  /** The largest backoff bound. Default: 60 seconds. */
  readonly cap?: Duration.DurationInput | undefined
  /** A `Retry-After` longer than this fails at once instead of waiting. Default: 5 minutes. */
  readonly maxRetryAfter?: Duration.DurationInput | undefined
}

/**
 * Retries of 5xx answers and transport failures.
 *
 * @since 0.1.0
 * @category options
 */
export interface TransientRetryOptions {
  /** How many retries at most. Default: 3. */
  readonly times?: number | undefined
  /** The first wait; it doubles each retry. Default: 500 milliseconds. */
  readonly base?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** The API base URL, ending in `/v3`. Default: {@link defaultBaseUrl}. */
  readonly baseUrl?: string | undefined
  /** Retries of 429s, or `false` for none. Default: see {@link RateLimitRetryOptions}. */
  readonly retry?: false | RateLimitRetryOptions | undefined
  /** Retries of 5xx and transport failures, or `false` for none. Default: see {@link TransientRetryOptions}. */
  readonly transientRetry?: false | TransientRetryOptions | undefined
  /** A hook applied to the configured `HttpClient`, e.g. to add a header or a proxy. Default: none. */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
}

/**
 * Everything a call to the API can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type ApiError = TextRevealError.TextRevealError | HttpClientError.HttpClientError

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * `GET /tasks/{task_id}/download`: the signed URLs of the task's files, in the order the API gives them,
   * each valid for 5 minutes. A task id that is not a UUID fails with `Invalid` and sends nothing.
   */
  readonly getDownloadUrls: (taskId: string) => Effect.Effect<ReadonlyArray<DownloadUrl.DownloadUrl>, ApiError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TextRevealClient extends Context.Tag("effect-textreveal/TextRevealClient")<TextRevealClient, Service>() {}

const decodeFailure = (response: HttpClientResponse.HttpClientResponse) => (cause: ParseResult.ParseError) =>
  new HttpClientError.ResponseError({
    request: response.request,
    response,
    reason: "Decode",
    cause,
    description: ParseResult.TreeFormatter.formatErrorSync(cause)
  })

const isRejection = (error: ApiError): error is TextRevealError.Unauthorized | TextRevealError.Forbidden =>
  error._tag === "Unauthorized" || error._tag === "Forbidden"

/**
 * Builds the service from an `HttpClient` and `Credentials`. The client is configured once here: base URL,
 * `Accept`, `User-Agent`, no trace headers to the API; each call adds only its bearer token.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(options: Options = {}) {
  const credentials = yield* Credentials.Credentials
  const baseUrl = (options.baseUrl ?? defaultBaseUrl).replace(/\/+$/, "")
  const policy = RetryPolicy.resolve(options)
  const client = (yield* HttpClient.HttpClient).pipe(
    HttpClient.mapRequest(flow(
      HttpClientRequest.prependUrl(baseUrl),
      HttpClientRequest.acceptJson,
      HttpClientRequest.setHeader("user-agent", userAgent)
    )),
    HttpClient.withTracerPropagation(false),
    options.transformClient ?? identity
  )

  /**
   * Sends a request with the current token, maps the status to a typed error and retries by the policy.
   * A rejected token is discarded; when the credentials can renew it, the request is repeated once with a
   * new token (after a 401, or a 403 on a token that was not obtained for this call).
   */
  const send = <A>(
    request: HttpClientRequest.HttpClientRequest,
    decode: (
      response: HttpClientResponse.HttpClientResponse,
      receivedAt: DateTime.Utc
    ) => Effect.Effect<A, HttpClientError.HttpClientError>
  ): Effect.Effect<A, ApiError> =>
    Effect.flatMap(Ref.make(false), (renewed) => {
      const attempt = (
        nextAttempt: Effect.Effect<number>
      ): Effect.Effect<A, ApiError | RetryPolicy.NoRetry<Credentials.CredentialsError>> =>
        Effect.gen(function*() {
          const n = yield* nextAttempt
          const access = yield* Effect.mapError(credentials.get, (error) => new RetryPolicy.NoRetry(error))
          const response = yield* client.execute(HttpClientRequest.bearerToken(request, access.token))
          const receivedAt = yield* DateTime.now
          yield* Effect.annotateCurrentSpan({ "http.response.status_code": response.status, "textreveal.attempts": n })
          if (response.status >= 200 && response.status < 300) return yield* decode(response, receivedAt)
          return yield* fromResponse(response, n, access.token).pipe(
            Effect.catchIf(isRejection, (error) =>
              Effect.gen(function*() {
                // A 403 on a token obtained for this call is a real refusal, not a stale token.
                if (error._tag === "Forbidden" && access.fresh) return yield* error
                yield* credentials.invalidate(access.token)
                if (!credentials.renewable || (yield* Ref.get(renewed))) return yield* error
                yield* Ref.set(renewed, true)
                yield* Effect.logDebug("TextReveal rejected the token; renewing it and repeating the request")
                return yield* attempt(nextAttempt)
              }))
          )
        }).pipe(redactErrors)
      return withRetries(policy, attempt).pipe(
        Effect.catchTag("NoRetry", (wrapped) => Effect.fail(wrapped.error))
      )
    })

  const getDownloadUrls = Effect.fn("TextRevealClient.getDownloadUrls")(function*(taskId: string) {
    yield* Effect.annotateCurrentSpan("textreveal.task_id", taskId)
    const id = yield* validateTaskId(taskId)
    return yield* send(
      HttpClientRequest.get(`/tasks/${id}/download`),
      (response, receivedAt) =>
        Effect.flatMap(
          readJson(response),
          (body) => Effect.mapError(DownloadUrl.decodeBody(body, receivedAt), decodeFailure(response))
        )
    )
  })

  return TextRevealClient.of({ getDownloadUrls })
})

/**
 * The client as a layer. It requires an `HttpClient` (e.g. `FetchHttpClient.layer`) and `Credentials`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<TextRevealClient, never, HttpClient.HttpClient | Credentials.Credentials> =>
  Layer.effect(TextRevealClient, make(options))

/**
 * The client with its base URL read from `TEXTREVEAL_BASE_URL` (optional; default {@link defaultBaseUrl}).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<
  TextRevealClient,
  ConfigError.ConfigError,
  HttpClient.HttpClient | Credentials.Credentials
> = Layer.unwrapEffect(
  Effect.map(
    Config.option(Config.url("TEXTREVEAL_BASE_URL")),
    (baseUrl) => layer({ baseUrl: Option.getOrUndefined(Option.map(baseUrl, (url) => url.href)) })
  )
)
