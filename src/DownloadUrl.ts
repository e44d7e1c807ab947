/**
 * A signed URL of one exported file, as answered by `GET /v3/tasks/{task_id}/download`.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"

/**
 * How long a signed URL stays valid after the API answered: 5 minutes.
 *
 * @since 0.1.0
 * @category constants
 */
export const validity: Duration.Duration = Duration.minutes(5)

/**
 * One signed file URL with the file's name and the instant it stops being valid.
 *
 * @since 0.1.0
 * @category models
 */
export class DownloadUrl extends Schema.Class<DownloadUrl>("DownloadUrl")({
  /** The signed URL: fetch it with a plain GET, never with the API token. */
  url: Schema.String,
  /**
   * The file's name, safe to create in a directory: the decoded last path segment of the URL with path
   * separators, `..`, control characters and a leading dot replaced by `_`, cut to 200 characters keeping
   * the extension, e.g. `21d9cd93-….csv`. A malformed percent-escape decodes to U+FFFD (`%FF.csv` gives
   * `�.csv`). A URL whose last segment gives no name (`…/exports/`, `.`, `..`, only spaces) is named after
   * its position in the list, from 1: `file-2` for the second URL.
   */
  fileName: Schema.String,
  /** When the URL stops being valid: when the response arrived (by `Clock`) plus {@link validity}. */
  expiresAt: Schema.DateTimeUtcFromSelf
}) {
  /**
   * Whether the URL has expired at the given instant.
   *
   * @example
   * ```ts
   * import { DateTime, Effect } from "effect"
   * import type { DownloadUrl } from "effect-textreveal"
   *
   * export const stillValid = (url: DownloadUrl.DownloadUrl) =>
   *   Effect.map(DateTime.now, (now) => !url.isExpiredAt(now))
   * ```
   *
   * @since 0.1.0
   */
  isExpiredAt(now: DateTime.Utc): boolean {
    return DateTime.greaterThanOrEqualTo(now, this.expiresAt)
  }
}
