import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { redactError } from "./redact.js"

/**
 * Where the first problem of a parse issue lies, e.g. `[2]` or `.data[0].status`, found by walking the
 * issue (not by formatting it: a formatter would quote the value, which may be huge, deeply nested or
 * hold a secret the server echoed).
 */
const pathOf = (issue: ParseResult.ParseIssue): string => {
  let path = ""
  let current: ParseResult.ParseIssue | undefined = issue
  for (let depth = 0; current !== undefined && depth < 32; depth++) {
    switch (current._tag) {
      case "Pointer": {
        const segments = Array.isArray(current.path) ? current.path : [current.path]
        path += segments.map((key) => typeof key === "number" ? `[${key}]` : `.${String(key).slice(0, 40)}`).join("")
        current = current.issue
        break
      }
      case "Composite":
        current = Array.isArray(current.issues) ? current.issues[0] : current.issues as ParseResult.ParseIssue
        break
      case "Refinement":
      case "Transformation":
        current = current.issue
        break
      default:
        current = undefined
    }
  }
  return path
}

/**
 * A `Decode` failure of a response, redacted.
 *
 * @internal
 */
export const decodeFailure = (response: HttpClientResponse.HttpClientResponse, description: string) =>
  redactError(
    new HttpClientError.ResponseError({ request: response.request, response, reason: "Decode", description }),
    // The request's secrets are not known here: nothing of the response that could echo one is kept.
    undefined
  )

const parseJson = (text: string): Either.Either<unknown, void> => {
  try {
    return Either.right(JSON.parse(text))
  } catch {
    // The `SyntaxError` quotes the body: only the fact that it is not JSON is reported.
    return Either.left(undefined)
  }
}

/**
 * A decoder of a JSON body already read into the response. A body that is not JSON, or not of the
 * schema's shape, is a `ResponseError` (`Decode`) that says what was expected and where it differs, and
 * quotes nothing of the body.
 *
 * @internal
 */
export const decodeJson = <A, I>(schema: Schema.Schema<A, I>, expected: string, who = "TextReveal") => {
  const decode = Schema.decodeUnknownEither(schema)
  return (response: HttpClientResponse.HttpClientResponse): Effect.Effect<A, HttpClientError.ResponseError> =>
    Effect.flatMap(
      Effect.mapError(response.text, () => decodeFailure(response, "the body could not be read")),
      (text) => {
        const json = parseJson(text)
        if (Either.isLeft(json)) {
          return Effect.fail(decodeFailure(response, `${who} answered ${response.status} with a body that is not JSON`))
        }
        const decoded = decode(json.right)
        if (Either.isRight(decoded)) return Effect.succeed(decoded.right)
        const path = pathOf(decoded.left.issue)
        return Effect.fail(decodeFailure(
          response,
          `${who} answered ${response.status} with a body that is not ${expected}${path === "" ? "" : ` (at ${path})`}`
        ))
      }
    )
}
