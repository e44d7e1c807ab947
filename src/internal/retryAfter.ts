import * as Duration from "effect/Duration"
import * as Option from "effect/Option"

/**
 * Reads a `Retry-After` header: delta-seconds or an HTTP-date, relative to `nowMillis` (from `Clock`).
 * A date in the past means "now"; anything unreadable is ignored.
 *
 * @internal
 */
export const parseRetryAfter = (value: string | undefined, nowMillis: number): Option.Option<Duration.Duration> => {
  if (value === undefined) return Option.none()
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Option.some(Duration.seconds(Number(trimmed)))
  // HTTP dates all start with a day name (IMF-fixdate, RFC 850, asctime); `Date.parse` alone would read
  // "-5" or "1.5" as years. Parsing reads no clock: `nowMillis` is the only source of time here.
  if (!/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /.test(trimmed)) return Option.none()
  // The asctime form carries no zone; HTTP dates are always GMT.
  const at = Date.parse(/GMT$/.test(trimmed) ? trimmed : `${trimmed} GMT`)
  if (Number.isNaN(at)) return Option.none()
  return Option.some(Duration.millis(Math.max(0, at - nowMillis)))
}
