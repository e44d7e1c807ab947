/**
 * `POST /oauth/token`: the OAuth 2.0 password grant, as the TextReveal token endpoint answers it.
 *
 * @internal
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import { defaultAudience, defaultClientId } from "../../../Credentials.js"
import * as Wire from "../../../internal/wire.js"
import * as Responses from "../responses.js"
import { Settings } from "../settings.js"
import { Tokens } from "../tokens.js"

/** @internal */
export const token = Effect.gen(function*() {
  const settings = yield* Settings
  const body = yield* Effect.either(HttpServerRequest.schemaBodyJson(Wire.TokenRequestBody))
  // A body that cannot be read, is not JSON or is not a password grant: all answered alike.
  if (Either.isLeft(body)) {
    return Responses.tokenError(
      400,
      "invalid_request",
      "Expected a JSON password grant with username, password, audience and client_id."
    )
  }
  const grant = body.right
  if (grant.client_id !== defaultClientId || grant.audience !== defaultAudience) {
    return Responses.tokenError(401, "access_denied", "Unknown client or audience.")
  }
  if (Redacted.value(grant.username) !== settings.username || Redacted.value(grant.password) !== settings.password) {
    return Responses.tokenError(403, "invalid_grant", "Wrong email or password.")
  }
  const issued = yield* (yield* Tokens).issue
  return Responses.json(Wire.TokenResponseBody, {
    access_token: Redacted.make(issued),
    expires_in: Math.max(1, Math.round(Duration.toSeconds(settings.tokenLifetime))),
    token_type: "Bearer"
  })
})
