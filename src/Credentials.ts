/**
 * Where the client gets its bearer token.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as SynchronizedRef from "effect/SynchronizedRef"
import { readJson } from "./internal/body.js"
import { fromTokenResponse } from "./internal/errorResponse.js"
import { redactErrors } from "./internal/redact.js"
import * as RetryPolicy from "./internal/retryPolicy.js"
import { userAgent } from "./internal/version.js"
import { withRetries } from "./internal/withRetries.js"
import type * as TextRevealError from "./TextRevealError.js"

/**
 * The documented OAuth 2.0 token endpoint.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultTokenUrl = "https://login.textreveal.com/oauth/token"

/**
 * The documented OAuth client id of the TextReveal API.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultClientId = "2vlZbytm6YvS48bl0lH3Dcjxq87iXX4w"

/**
 * The documented audience of TextReveal tokens (with its trailing slash).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultAudience = "https://api.textreveal.com/"

/**
 * The body of a token request: an OAuth 2.0 password grant. `username` is the API key, `password` the API
 * secret; both stay `Redacted` until encoded.
 *
 * @since 0.1.0
 * @category wire
 */
export const TokenRequestBody = Schema.Struct({
  grant_type: Schema.Literal("password"),
  username: Schema.Redacted(Schema.String),
  password: Schema.Redacted(Schema.String),
  audience: Schema.String,
  client_id: Schema.String
})

/**
 * The body of a successful token response. `expires_in` is in seconds.
 *
 * @since 0.1.0
 * @category wire
 */
export const TokenResponseBody = Schema.Struct({
  access_token: Schema.Redacted(Schema.String),
  expires_in: Schema.Number,
  token_type: Schema.String
})

/**
 * The body of a refused token request, in the OAuth 2.0 form (`error`, `error_description`). The API does
 * not document it; a body of the API's own error form is read as well.
 *
 * @since 0.1.0
 * @category wire
 */
export const TokenErrorBody = Schema.Struct({
  error: Schema.String,
  error_description: Schema.optional(Schema.String)
})

/**
 * A bearer token handed to one caller.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccessToken {
  readonly token: Redacted.Redacted<string>
  /**
   * `true` when the token was obtained for this caller's request rather than taken from memory. A 403 on a
   * fresh token is a real refusal; on an older one it may be a token the API no longer accepts.
   */
  readonly fresh: boolean
}

/**
 * How obtaining a token can fail: the token endpoint refused the credentials (`Unauthorized`), rate limited
 * or failed, or could not be reached.
 *
 * @since 0.1.0
 * @category errors
 */
export type CredentialsError =
  | TextRevealError.Unauthorized
  | TextRevealError.TooManyRequests
  | TextRevealError.ServerError
  | HttpClientError.HttpClientError

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Whether a rejected token can be replaced by a new one (`false` for a fixed token). */
  readonly renewable: boolean
  /** The current token, obtained or renewed first when needed. */
  readonly get: Effect.Effect<AccessToken, CredentialsError>
  /**
   * Discards a token the API rejected, so that the next `get` does not hand it out again. A token that has
   * already been replaced is left alone.
   */
  readonly invalidate: (token: Redacted.Redacted<string>) => Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Credentials extends Context.Tag("effect-textreveal/Credentials")<Credentials, Service>() {}

/**
 * A fixed token, e.g. one copied from the TextReveal console. It cannot be renewed: when the API rejects
 * it, the call fails with `Unauthorized` or `Forbidden`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerToken = (token: Redacted.Redacted<string>): Layer.Layer<Credentials> =>
  Layer.succeed(
    Credentials,
    Credentials.of({
      renewable: false,
      get: Effect.succeed({ token, fresh: false }),
      invalidate: () => Effect.void
    })
  )

/**
 * @since 0.1.0
 * @category options
 */
export interface PasswordOptions {
  /** The API key. */
  readonly username: Redacted.Redacted<string> | string
  /** The API secret. */
  readonly password: Redacted.Redacted<string> | string
  /** Default: {@link defaultTokenUrl}. */
  readonly tokenUrl?: string | undefined
  /** Default: {@link defaultClientId}. */
  readonly clientId?: string | undefined
  /** Default: {@link defaultAudience}. */
  readonly audience?: string | undefined
  /** Retries of 429s from the token endpoint; as for the API (`TextRevealClient.Options["retry"]`). */
  readonly retry?: RetryOptions["retry"]
  /** Retries of its 5xx and transport failures; as for the API. */
  readonly transientRetry?: RetryOptions["transientRetry"]
}

type RetryOptions = Parameters<typeof RetryPolicy.resolve>[0]

/** A token in memory: the instant to renew it and the instant it expires, in `Clock` milliseconds. */
interface Held {
  readonly token: Redacted.Redacted<string>
  readonly renewAt: number
  readonly expiresAt: number
}

type State =
  | { readonly _tag: "Empty" }
  | { readonly _tag: "Held"; readonly held: Held }
  | {
    readonly _tag: "Renewing"
    readonly deferred: Deferred.Deferred<Redacted.Redacted<string>, CredentialsError>
    /** The token being replaced, still valid: it serves if the renewal fails, unless it was rejected meanwhile. */
    readonly previous: Held | undefined
  }

/** A token request in flight, awaited by every caller that needs a token meanwhile. */
interface Renewal {
  readonly deferred: Deferred.Deferred<Redacted.Redacted<string>, CredentialsError>
}

/** Renew at the smaller of 5 minutes and 10% of the lifetime before the end. */
const renewalMargin = (lifetimeMillis: number): number => Math.min(5 * 60_000, lifetimeMillis / 10)

const asRedacted = (value: Redacted.Redacted<string> | string): Redacted.Redacted<string> =>
  Redacted.isRedacted(value) ? value : Redacted.make(value)

/**
 * Tokens from the OAuth 2.0 password grant, obtained on first use, kept in memory and renewed before they
 * expire: at the smaller of 5 minutes and 10% of `expires_in` before the end, by `Clock`. However many
 * fibers ask at once, at most one token request is in flight and all of them get its result. While a
 * renewal fails, a token that has not yet expired is still handed out.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makePassword = Effect.fnUntraced(function*(options: PasswordOptions) {
  const http = (yield* HttpClient.HttpClient).pipe(HttpClient.withTracerPropagation(false))
  const policy = RetryPolicy.resolve(options)
  const body = {
    grant_type: "password" as const,
    username: asRedacted(options.username),
    password: asRedacted(options.password),
    audience: options.audience ?? defaultAudience,
    client_id: options.clientId ?? defaultClientId
  }
  // Encoding a struct of strings cannot fail.
  const request = HttpClientRequest.post(options.tokenUrl ?? defaultTokenUrl).pipe(
    HttpClientRequest.acceptJson,
    HttpClientRequest.setHeader("user-agent", userAgent),
    HttpClientRequest.bodyUnsafeJson(Schema.encodeSync(TokenRequestBody)(body))
  )
  const decodeToken = Schema.decodeUnknown(TokenResponseBody)

  const requestToken: Effect.Effect<Held, CredentialsError> = withRetries(
    policy,
    (nextAttempt) =>
      Effect.gen(function*() {
        const n = yield* nextAttempt
        // The lifetime counts from the request, so that a slow answer cannot make a token outlive its expiry.
        const requestedAt = yield* Clock.currentTimeMillis
        const response = yield* http.execute(request)
        if (response.status < 200 || response.status >= 300) {
          return yield* fromTokenResponse(response, n, [body.username, body.password])
        }
        const json = yield* readJson(response)
        // The parse error would quote the body, token included: only its absence of shape is reported.
        const token = yield* Effect.mapError(decodeToken(json), () =>
          new HttpClientError.ResponseError({
            request,
            response,
            reason: "Decode",
            description: "the token endpoint's answer is not { access_token, expires_in, token_type }"
          }))
        const lifetime = token.expires_in * 1000
        return {
          token: token.access_token,
          expiresAt: requestedAt + lifetime,
          renewAt: requestedAt + lifetime - renewalMargin(lifetime)
        }
      }).pipe(redactErrors)
  ).pipe(Effect.withSpan("Credentials.requestToken"))

  const state = yield* SynchronizedRef.make<State>({ _tag: "Empty" })
  const scope = yield* Effect.scope

  /** Starts one token request in the background; its result settles `deferred` and the state. */
  const renew = (previous: Held | undefined) =>
    Effect.gen(function*() {
      const deferred = yield* Deferred.make<Redacted.Redacted<string>, CredentialsError>()
      yield* requestToken.pipe(
        Effect.exit,
        Effect.flatMap((exit) =>
          SynchronizedRef.update(state, (current): State => {
            if (Exit.isSuccess(exit)) return { _tag: "Held", held: exit.value }
            const fallback = current._tag === "Renewing" ? current.previous : undefined
            return fallback === undefined ? { _tag: "Empty" } : { _tag: "Held", held: fallback }
          }).pipe(Effect.zipRight(Deferred.complete(deferred, Effect.map(exit, (held) => held.token))))
        ),
        Effect.forkIn(scope)
      )
      return [deferred, { _tag: "Renewing", deferred, previous }] as const
    })

  const get: Effect.Effect<AccessToken, CredentialsError> = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const next = yield* SynchronizedRef.modifyEffect(
      state,
      (current): Effect.Effect<readonly [Held | Renewal, State]> => {
        switch (current._tag) {
          case "Held":
            if (now < current.held.renewAt) return Effect.succeed([current.held, current] as const)
            return Effect.map(renew(current.held), ([deferred, next]) => [{ deferred }, next] as const)
          case "Renewing":
            return Effect.succeed([{ deferred: current.deferred }, current] as const)
          case "Empty":
            return Effect.map(renew(undefined), ([deferred, next]) => [{ deferred }, next] as const)
        }
      }
    )
    if ("token" in next) return { token: next.token, fresh: false }
    const renewed = yield* Effect.either(Deferred.await(next.deferred))
    if (Either.isRight(renewed)) return { token: renewed.right, fresh: true }
    // The renewal failed: a token that has not expired yet still serves.
    const current = yield* SynchronizedRef.get(state)
    if (current._tag === "Held" && (yield* Clock.currentTimeMillis) < current.held.expiresAt) {
      yield* Effect.logWarning("Could not renew the TextReveal token; using the current one until it expires")
      return { token: current.held.token, fresh: false }
    }
    return yield* renewed.left
  })

  const sameToken = (held: Held | undefined, token: Redacted.Redacted<string>) =>
    held !== undefined && Redacted.value(held.token) === Redacted.value(token)

  const invalidate = (token: Redacted.Redacted<string>) =>
    SynchronizedRef.update(state, (current): State => {
      if (current._tag === "Held") return sameToken(current.held, token) ? { _tag: "Empty" } : current
      if (current._tag === "Renewing" && sameToken(current.previous, token)) return { ...current, previous: undefined }
      return current
    })

  return Credentials.of({ renewable: true, get, invalidate })
})

/**
 * Credentials from the API key and secret (see {@link makePassword}). Requires an `HttpClient` for the
 * token endpoint.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPassword = (options: PasswordOptions): Layer.Layer<Credentials, never, HttpClient.HttpClient> =>
  Layer.scoped(Credentials, makePassword(options))

/** A secret from the config, absent when unset or empty (`TEXTREVEAL_TOKEN=` does not count as a token). */
const secret = (name: string) =>
  Effect.map(
    Config.option(Config.redacted(name)),
    Option.filter((value) => Redacted.value(value) !== "")
  )

/**
 * Credentials from the environment: a fixed token from `TEXTREVEAL_TOKEN`, or else the API key and secret
 * from `TEXTREVEAL_USERNAME` and `TEXTREVEAL_PASSWORD` (with `TEXTREVEAL_TOKEN_URL`, optional). With none
 * set, it fails with a `ConfigError` naming the variables to set.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<Credentials, ConfigError.ConfigError, HttpClient.HttpClient> = Layer
  .unwrapEffect(
    Effect.gen(function*() {
      const token = yield* secret("TEXTREVEAL_TOKEN")
      if (Option.isSome(token)) return layerToken(token.value)
      const username = yield* secret("TEXTREVEAL_USERNAME")
      const password = yield* secret("TEXTREVEAL_PASSWORD")
      if (Option.isSome(username) && Option.isSome(password)) {
        const tokenUrl = yield* Config.option(Config.url("TEXTREVEAL_TOKEN_URL"))
        return layerPassword({
          username: username.value,
          password: password.value,
          tokenUrl: Option.getOrUndefined(Option.map(tokenUrl, (url) => url.href))
        })
      }
      return yield* Effect.fail(ConfigError.MissingData(
        [],
        "No TextReveal credentials: set TEXTREVEAL_TOKEN, or TEXTREVEAL_USERNAME and TEXTREVEAL_PASSWORD"
      ))
    })
  )
