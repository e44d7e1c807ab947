/**
 * Bearer authentication of the API routes, as middleware: a call without a valid token gets the documented
 * 401 (or 403), whatever the case of the scheme (`Bearer`, `bearer`, `BEARER`: schemes are
 * case-insensitive).
 *
 * @internal
 */
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Responses from "./responses.js"
import { Settings } from "./settings.js"
import { Tokens } from "./tokens.js"

const credentials = /^\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)\s+([\x21-\x7e]+)\s*$/

/** @internal */
export const authenticated = <E, R>(
  handler: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<
  HttpServerResponse.HttpServerResponse,
  E,
  R | HttpServerRequest.HttpServerRequest | Tokens | Settings
> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const match = credentials.exec(request.headers["authorization"] ?? "")
    if (match === null || match[1]!.toLowerCase() !== "bearer") {
      return Responses.apiError(401, "Authorization header is expected", "unauthorized")
    }
    if (yield* (yield* Tokens).isValid(match[2]!)) return yield* handler
    return (yield* Settings).rejectedTokenStatus === 401
      ? Responses.apiError(401, "invalid username or API key", "unauthorized")
      : Responses.forbidden()
  })
