/**
 * Where the client gets its bearer token: a fixed token, or the OAuth 2.0 password grant renewed by itself.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import { parseBaseUrl } from "./internal/baseUrl.js"
import * as PasswordGrant from "./internal/passwordGrant.js"
import * as RetryPolicy from "./internal/retryPolicy.js"
import type * as Retry from "./Retry.js"
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
 * How obtaining a token can fail: the token endpoint refused the credentials (`Unauthorized`, with the
 * endpoint's status), rate limited or failed, timed out, or could not be reached.
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
 * @example
 * ```ts
 * // get: the current token (obtained or renewed first when needed), e.g. for a request of your own.
 * import { HttpClientRequest } from "@effect/platform"
 * import { Effect } from "effect"
 * import { Credentials } from "effect-textreveal"
 *
 * export const authorized = (request: HttpClientRequest.HttpClientRequest) =>
 *   Effect.flatMap(Credentials.Credentials, (credentials) => credentials.get).pipe(
 *     Effect.map(({ token }) => HttpClientRequest.bearerToken(request, token))
 *   )
 * ```
 *
 * @example
 * ```ts
 * // invalidate: after your own request was refused with a 401, so that the next get obtains a new token.
 * import { Effect } from "effect"
 * import { Credentials } from "effect-textreveal"
 *
 * export const renewAfterRefusal = Effect.gen(function*() {
 *   const credentials = yield* Credentials.Credentials
 *   const { token } = yield* credentials.get
 *   if (credentials.renewable) yield* credentials.invalidate(token)
 *   return yield* credentials.get
 * })
 * ```
 *
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

const sendable = /^[\x21-\x7e]+$/

/**
 * A fixed token, e.g. one copied from the TextReveal console. It cannot be renewed: when the API rejects
 * it, the call fails with `Unauthorized` or `Forbidden`. An empty or missing token, or one that cannot be
 * sent in a header (spaces, line breaks, non-ASCII), fails the layer with a `ConfigError`.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer, Redacted } from "effect"
 * import { Credentials, TextRevealClient } from "effect-textreveal"
 *
 * export const TextRevealLive = TextRevealClient.layer().pipe(
 *   Layer.provide(Credentials.layerToken(Redacted.make("eyJ..."))),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerToken = (token: Redacted.Redacted<string>): Layer.Layer<Credentials, ConfigError.ConfigError> =>
  Layer.effect(
    Credentials,
    Effect.suspend(() => {
      const value: unknown = Redacted.isRedacted(token) ? Redacted.value(token) : undefined
      if (!Predicate.isString(value) || value === "") {
        return Effect.fail(ConfigError.MissingData(["token"], "The TextReveal token is empty or missing"))
      }
      if (!sendable.test(value)) {
        return Effect.fail(ConfigError.InvalidData(
          ["token"],
          "The TextReveal token holds characters that cannot be sent in an HTTP header (a space, a line break, non-ASCII)"
        ))
      }
      return Effect.succeed(Credentials.of({
        renewable: false,
        get: Effect.succeed({ token, fresh: false }),
        invalidate: () => Effect.void
      }))
    })
  )

/**
 * @since 0.1.0
 * @category options
 */
export interface PasswordOptions extends Retry.Options {
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
}

const asRedacted = (value: Redacted.Redacted<string> | string): Redacted.Redacted<string> =>
  Redacted.isRedacted(value) ? value : Redacted.make(value)

/**
 * Credentials from the API key and secret, by the OAuth 2.0 password grant. Requires an `HttpClient` for
 * the token endpoint.
 *
 * Tokens are obtained on first use, kept in memory and renewed before they expire: at the smaller of 5
 * minutes and 10% of `expires_in` before the end, by `Clock`. However many fibers ask at once, at most one
 * token request is in flight and all of them get its result; each gives up after `timeout` (default 30 s),
 * and the next caller then starts a fresh request. While a renewal fails, a token that has not yet expired
 * is still handed out. Token requests are retried as the API's are (see {@link Retry.Options}).
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Config, Layer } from "effect"
 * import { Credentials, TextRevealClient } from "effect-textreveal"
 *
 * // The API key and secret from variables of your own naming; token requests get 10 s each.
 * const PasswordCredentials = Layer.unwrapEffect(
 *   Config.all({ username: Config.redacted("MY_API_KEY"), password: Config.redacted("MY_API_SECRET") }).pipe(
 *     Config.map((keys) => Credentials.layerPassword({ ...keys, timeout: "10 seconds" }))
 *   )
 * )
 *
 * export const TextRevealLive = TextRevealClient.layer().pipe(
 *   Layer.provide(PasswordCredentials),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPassword = (
  options: PasswordOptions
): Layer.Layer<Credentials, ConfigError.ConfigError, HttpClient.HttpClient> =>
  Layer.scoped(
    Credentials,
    Effect.gen(function*() {
      const tokenUrl = yield* parseBaseUrl("tokenUrl", options.tokenUrl ?? defaultTokenUrl)
      return Credentials.of(
        yield* PasswordGrant.make({
          username: asRedacted(options.username),
          password: asRedacted(options.password),
          tokenUrl,
          clientId: options.clientId ?? defaultClientId,
          audience: options.audience ?? defaultAudience,
          retry: RetryPolicy.resolve(options)
        })
      )
    })
  )

/** A secret from the config, absent when unset or empty (`TEXTREVEAL_TOKEN=` does not count as a token). */
const secret = (name: string) =>
  Effect.map(Config.option(Config.redacted(name)), Option.filter((value) => Redacted.value(value) !== ""))

/**
 * Credentials from the environment: a fixed token from `TEXTREVEAL_TOKEN`, or else the API key and secret
 * from `TEXTREVEAL_USERNAME` and `TEXTREVEAL_PASSWORD` (with `TEXTREVEAL_TOKEN_URL`, optional). With
 * neither set, or only one of the pair, it fails with a `ConfigError` naming the variables to set.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { Credentials, TextRevealClient } from "effect-textreveal"
 *
 * // TEXTREVEAL_TOKEN, or TEXTREVEAL_USERNAME + TEXTREVEAL_PASSWORD (+ TEXTREVEAL_TOKEN_URL).
 * export const TextRevealLive = TextRevealClient.layerConfig.pipe(
 *   Layer.provide(Credentials.layerConfig),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
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
        const tokenUrl = yield* Config.option(Config.nonEmptyString("TEXTREVEAL_TOKEN_URL"))
        return layerPassword({
          username: username.value,
          password: password.value,
          tokenUrl: Option.getOrUndefined(tokenUrl)
        })
      }
      const missing = Option.isSome(username)
        ? "TEXTREVEAL_PASSWORD is not set (TEXTREVEAL_USERNAME is)"
        : Option.isSome(password)
        ? "TEXTREVEAL_USERNAME is not set (TEXTREVEAL_PASSWORD is)"
        : "No TextReveal credentials"
      return yield* Effect.fail(ConfigError.MissingData(
        [],
        `${missing}: set TEXTREVEAL_TOKEN, or TEXTREVEAL_USERNAME and TEXTREVEAL_PASSWORD`
      ))
    })
  )
