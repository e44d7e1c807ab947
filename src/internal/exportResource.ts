/**
 * The `resource` of an export request, checked before anything is sent.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as TextRevealError from "../TextRevealError.js"

/** The longest resource accepted: a path of a few segments, never kilobytes. */
const maxLength = 1000

const segment = /^[A-Za-z0-9_.-]+$/

/**
 * Why `resource` cannot be the path between `/v3/` and `/export`, or `undefined` when it can: segments of
 * letters, digits, `_`, `-` and `.` (not `.` or `..` alone), separated by single `/`, none leading or
 * trailing, no query or fragment. Pure.
 *
 * @internal
 */
export const problemOf = (resource: string): string | undefined => {
  if (resource.length === 0) return "must not be empty"
  if (resource.length > maxLength) return `must be at most ${maxLength} characters`
  if (resource.startsWith("/") || resource.endsWith("/")) return "must not start or end with /"
  for (const part of resource.split("/")) {
    if (part === "") return "must not hold an empty segment (//)"
    if (part === "." || part === "..") return "must not hold a . or .. segment"
    if (!segment.test(part)) return "takes segments of letters, digits, _, - and . only (no query, fragment or space)"
  }
  return undefined
}

/**
 * The `Invalid` the API would answer for a bad field of an export request, naming `startExport`.
 *
 * @internal
 */
export const invalid = (field: string, problem: string, shown: string) =>
  new TextRevealError.Invalid({
    status: 400,
    message: `${field} ${problem}, got ${shown} (${TextRevealError.exportMethod})`,
    reason: "invalid",
    errors: [new TextRevealError.FieldError({ field, message: problem, reason: "invalid_string" })],
    method: TextRevealError.exportMethod
  })

/**
 * `resource` when it is usable, or the `Invalid` (field `resource`) that refuses it before anything is sent.
 *
 * @internal
 */
export const validate = (resource: string): Effect.Effect<string, TextRevealError.Invalid> => {
  const problem = typeof resource === "string" ? problemOf(resource) : "must be a string"
  return problem === undefined
    ? Effect.succeed(resource)
    : Effect.fail(invalid("resource", problem, JSON.stringify(String(resource).slice(0, 80))))
}
