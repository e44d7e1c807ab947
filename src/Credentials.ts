/**
 * Where the client gets its bearer token.
 *
 * @since 0.1.0
 */
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as TextRevealError from "./TextRevealError.js"

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
      invalidate: () => Effect.logWarning("TextReveal rejected the configured token; set a new TEXTREVEAL_TOKEN")
    })
  )

/**
 * A fixed token read from `TEXTREVEAL_TOKEN` with `Config.redacted`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<Credentials, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(Config.redacted("TEXTREVEAL_TOKEN"), layerToken)
)
