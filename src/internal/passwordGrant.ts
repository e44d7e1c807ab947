import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as SynchronizedRef from "effect/SynchronizedRef"
import type * as Credentials from "../Credentials.js"
import { decodeJson } from "./decodeBody.js"
import { fromTokenResponse } from "./errorResponse.js"
import * as Metrics from "./metrics.js"
import { redactError } from "./redact.js"
import { readWhole } from "./responseBody.js"
import * as RetryPolicy from "./retryPolicy.js"
import { makeScrub } from "./secrets.js"
import { withTimeout } from "./timeout.js"
import { userAgent } from "./version.js"
import * as Wire from "./wire.js"

/** A token in memory: the instants to renew it and when it expires, in `Clock` milliseconds. */
interface Held {
  readonly token: Redacted.Redacted<string>
  readonly renewAt: number
  readonly expiresAt: number
}

/** A token request in flight, awaited by every caller that needs a token meanwhile. */
interface Renewal {
  readonly deferred: Deferred.Deferred<Redacted.Redacted<string>, Credentials.CredentialsError>
  readonly fiber: Fiber.RuntimeFiber<unknown, unknown>
  /** The token being replaced, still valid: it serves if the renewal fails, unless it was rejected meanwhile. */
  readonly previous: Held | undefined
}

type State =
  | { readonly _tag: "Empty" }
  | { readonly _tag: "Held"; readonly held: Held }
  | { readonly _tag: "Renewing"; readonly renewal: Renewal }

const empty: State = { _tag: "Empty" }

/** Renew at the smaller of 5 minutes and 10% of the lifetime before the end. */
const renewalMargin = (lifetimeMillis: number): number => Math.min(5 * 60_000, lifetimeMillis / 10)

/** A token response body: enough for any token, never a hostile flood. */
const maxTokenBodyBytes = 256 * 1024

const decodeToken = decodeJson(
  Wire.TokenResponseBody,
  "{ access_token, expires_in, token_type } with a token that can be sent in a header",
  "The token endpoint"
)

/** @internal */
export interface Options {
  readonly username: Redacted.Redacted<string>
  readonly password: Redacted.Redacted<string>
  readonly tokenUrl: string
  readonly clientId: string
  readonly audience: string
  readonly retry: RetryPolicy.Policy
}

/**
 * The OAuth 2.0 password grant as a `Credentials` service: tokens obtained on first use, kept in memory,
 * renewed before they expire, at most one token request in flight.
 *
 * Safe under interruption: the request runs in a fiber of the layer's scope, not of the caller that
 * started it, and settles every waiter whatever ends it. Each attempt is bounded by the per-attempt
 * timeout; a waiter gives up once the request has run longer than all its attempts and waits could take,
 * and abandons it, so that the next caller starts a fresh one rather than joining a request that hangs.
 *
 * @internal
 */
export const make = Effect.fnUntraced(function*(options: Options) {
  const http = (yield* HttpClient.HttpClient).pipe(
    // The platform's span would keep the request body, the API secret in it, in its exit.
    HttpClient.withTracerDisabledWhen(() => true),
    HttpClient.withTracerPropagation(false)
  )
  const policy = options.retry
  const scrub = makeScrub([options.username, options.password])
  // Encoding a struct of strings cannot fail.
  const request = HttpClientRequest.post(options.tokenUrl).pipe(
    HttpClientRequest.acceptJson,
    HttpClientRequest.setHeader("user-agent", userAgent),
    HttpClientRequest.bodyUnsafeJson(
      Schema.encodeSync(Wire.TokenRequestBody)({
        grant_type: "password",
        username: options.username,
        password: options.password,
        audience: options.audience,
        client_id: options.clientId
      })
    )
  )

  const attempt: Effect.Effect<Held, Credentials.CredentialsError> = Effect.gen(function*() {
    // The lifetime counts from the request, so that a slow answer cannot make a token outlive its expiry.
    const requestedAt = yield* Clock.currentTimeMillis
    const response = yield* Effect.tapError(
      http.execute(request),
      (error) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Metrics.recordRequest(
            "token",
            Cause.isTimeoutException(error.cause) ? "timeout" : "transport",
            now - requestedAt
          ))
    )
    yield* Effect.flatMap(
      Clock.currentTimeMillis,
      (now) => Metrics.recordRequest("token", response.status, now - requestedAt)
    )
    if (response.status !== 200) return yield* fromTokenResponse(response, scrub)
    const token = yield* Effect.flatMap(readWhole(response, maxTokenBodyBytes), decodeToken)
    const lifetime = token.expires_in * 1000
    return {
      token: token.access_token,
      expiresAt: requestedAt + lifetime,
      renewAt: requestedAt + lifetime - renewalMargin(lifetime)
    }
  }).pipe(
    withTimeout(policy.timeout, request, "no token from the token endpoint"),
    Effect.tapError((error) =>
      error._tag === "RequestError" && Cause.isTimeoutException(error.cause)
        ? Metrics.recordRequest("token", "timeout", Duration.toMillis(policy.timeout))
        : Effect.void
    ),
    Effect.mapError((error) => HttpClientError.isHttpClientError(error) ? redactError(error, scrub) : error)
  )

  const requestToken = Effect.retry(
    attempt,
    RetryPolicy.schedule<Credentials.CredentialsError>({
      policy,
      verdictOf: (error) => RetryPolicy.verdictOf(error),
      endpoint: "token"
    })
  ).pipe(Effect.withSpan("Credentials.requestToken", { captureStackTrace: false }))

  const state = yield* SynchronizedRef.make<State>(empty)
  const scope = yield* Effect.scope

  /** What is left when a renewal ends without a token: the previous token, unless it was rejected meanwhile. */
  const fallback = (renewal: Renewal): State =>
    renewal.previous === undefined ? empty : { _tag: "Held", held: renewal.previous }

  /** Settles a renewal once: the state first (if it still refers to this renewal), then every waiter. */
  const settle = (
    deferred: Renewal["deferred"],
    exit: Exit.Exit<Held, Credentials.CredentialsError>
  ) =>
    SynchronizedRef.update(state, (current): State => {
      if (current._tag !== "Renewing" || current.renewal.deferred !== deferred) return current
      return Exit.isSuccess(exit) ? { _tag: "Held", held: exit.value } : fallback(current.renewal)
    }).pipe(
      Effect.zipRight(Deferred.done(deferred, Exit.map(exit, (held) => held.token))),
      Effect.asVoid
    )

  /** Starts one token request in the layer's scope. */
  const renew = (previous: Held | undefined) =>
    Effect.gen(function*() {
      const deferred = yield* Deferred.make<Redacted.Redacted<string>, Credentials.CredentialsError>()
      const fiber = yield* requestToken.pipe(
        Effect.onExit((exit) =>
          // An interrupted request (abandoned, or the layer closing) settles its waiters with a failure.
          settle(deferred, Exit.isInterrupted(exit) ? Exit.fail(abandoned) : exit)
        ),
        // Its outcome goes to the waiters: the fiber itself ends quietly.
        Effect.exit,
        // Started from an uninterruptible region, the request itself stays interruptible (abandon, scope close).
        Effect.interruptible,
        Effect.forkIn(scope)
      )
      const renewal: Renewal = { deferred, fiber, previous }
      return renewal
    })

  /**
   * The longest a token request can take with its retries: every attempt timing out, every wait taken. A
   * waiter gives up past it, abandoning the request, so that the next caller starts afresh.
   */
  const longestRequest = Duration.sum(
    Duration.times(policy.timeout, policy.maxAttempts),
    policy.maxRetryTime
  )

  const abandoned = new HttpClientError.RequestError({
    request: HttpClientRequest.post(options.tokenUrl),
    reason: "Transport",
    cause: new Cause.TimeoutException("the token request was abandoned"),
    description: `timed out: no token from the token endpoint within ${Duration.format(longestRequest)}`
  })

  /** Gives up on a renewal that did not answer in time: its waiters fail, the next caller starts afresh. */
  const abandon = (renewal: Renewal) =>
    SynchronizedRef.update(
      state,
      (current) => current._tag === "Renewing" && current.renewal === renewal ? fallback(renewal) : current
    ).pipe(
      Effect.zipRight(Deferred.fail(renewal.deferred, abandoned)),
      Effect.zipRight(Fiber.interruptFork(renewal.fiber))
    )

  const get: Effect.Effect<Credentials.AccessToken, Credentials.CredentialsError> = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const next = yield* SynchronizedRef.modifyEffect(
      state,
      (current): Effect.Effect<readonly [Held | Renewal, State]> => {
        switch (current._tag) {
          case "Held":
            if (now < current.held.renewAt) return Effect.succeed([current.held, current] as const)
            return Effect.map(renew(current.held), (renewal) => [renewal, { _tag: "Renewing", renewal }] as const)
          case "Renewing":
            return Effect.succeed([current.renewal, current] as const)
          case "Empty":
            return Effect.map(renew(undefined), (renewal) => [renewal, { _tag: "Renewing", renewal }] as const)
        }
      }
    ).pipe(Effect.uninterruptible)
    if ("token" in next) return { token: next.token, fresh: false }
    const awaited = yield* Effect.either(Effect.timeoutOption(Deferred.await(next.deferred), longestRequest))
    if (Either.isRight(awaited) && Option.isSome(awaited.right)) return { token: awaited.right.value, fresh: true }
    if (Either.isRight(awaited)) yield* abandon(next)
    // The renewal failed: a token that has not expired yet still serves.
    const current = yield* SynchronizedRef.get(state)
    if (current._tag === "Held" && (yield* Clock.currentTimeMillis) < current.held.expiresAt) {
      yield* Effect.logWarning("Could not renew the TextReveal token; using the current one until it expires")
      return { token: current.held.token, fresh: false }
    }
    return yield* Effect.fail(Either.isLeft(awaited) ? awaited.left : abandoned)
  })

  const sameToken = (held: Held | undefined, token: Redacted.Redacted<string>) =>
    held !== undefined && Redacted.value(held.token) === Redacted.value(token)

  const invalidate = (token: Redacted.Redacted<string>) =>
    SynchronizedRef.update(state, (current): State => {
      if (current._tag === "Held") return sameToken(current.held, token) ? empty : current
      if (current._tag === "Renewing" && sameToken(current.renewal.previous, token)) {
        return { _tag: "Renewing", renewal: { ...current.renewal, previous: undefined } }
      }
      return current
    })

  return { renewable: true, get, invalidate } satisfies Credentials.Service
})
