/**
 * The `DURATION` of the command line: `90s`, `5m`, `2h`, `1h30m`, `500ms`, `1d`; also Effect's own forms
 * (`"5 minutes"`).
 *
 * @internal
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

const compact = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/
const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g

/** `1h30m` → 5 400 000 ms; `undefined` when the text is not of that form. */
const parseCompact = (text: string): number | undefined => {
  if (!compact.test(text)) return undefined
  let millis = 0
  for (const [, amount, unit] of text.matchAll(part)) millis += Number(amount) * units[unit!]!
  return millis
}

/**
 * A duration written `90s`, `5m`, `2h`, `1h30m` (units `ms`, `s`, `m`, `h`, `d`) or as Effect writes it
 * (`"90 seconds"`), finite and not negative, decoded to a `Duration`.
 *
 * @internal
 */
export const DurationFromCli: Schema.Schema<Duration.Duration, string> = Schema.transformOrFail(
  Schema.String,
  Schema.DurationFromSelf,
  {
    strict: true,
    decode: (text, _, ast) => {
      const trimmed = text.trim().toLowerCase()
      const millis = parseCompact(trimmed)
      if (millis !== undefined) return ParseResult.succeed(Duration.millis(millis))
      const decoded = Duration.decodeUnknown(trimmed)
      if (Option.isSome(decoded) && Duration.isFinite(decoded.value) && !trimmed.startsWith("-")) {
        return ParseResult.succeed(decoded.value)
      }
      return ParseResult.fail(
        new ParseResult.Type(ast, text, `Expected a duration such as 90s, 5m, 2h or 1h30m, got ${JSON.stringify(text)}`)
      )
    },
    encode: (duration) => ParseResult.succeed(`${Duration.toMillis(duration)}ms`)
  }
)
