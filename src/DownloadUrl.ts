/**
 * A signed URL of one exported file, as answered by `GET /v3/tasks/{task_id}/download`.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/**
 * How long a signed URL stays valid after the API answered: 5 minutes.
 *
 * @since 0.1.0
 * @category constants
 */
export const validity: Duration.Duration = Duration.minutes(5)

const fileNameOf = (url: URL): string | undefined => {
  const segment = url.pathname.split("/").pop() ?? ""
  try {
    return decodeURIComponent(segment)
  } catch {
    // A malformed percent-escape cannot name a file: the caller reports it as a decode failure.
    return undefined
  }
}

/**
 * An absolute `http:` or `https:` URL whose last path segment names a file.
 *
 * @since 0.1.0
 * @category schemas
 */
export const SignedUrl = Schema.String.pipe(
  Schema.filter((s) => {
    if (!URL.canParse(s)) return "must be an absolute URL"
    const url = new URL(s)
    if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an http(s) URL"
    const name = fileNameOf(url)
    return name === undefined || name === "" ? "must end with a file name" : true
  }),
  Schema.annotations({ identifier: "SignedUrl" })
)

/**
 * The 200 body of the download endpoint: a bare JSON array of signed URLs.
 *
 * @since 0.1.0
 * @category wire
 */
export const DownloadUrlsBody = Schema.Array(SignedUrl).annotations({ identifier: "DownloadUrlsBody" })

/**
 * One signed file URL with the file's name and the instant it stops being valid.
 *
 * @since 0.1.0
 * @category models
 */
export class DownloadUrl extends Schema.Class<DownloadUrl>("DownloadUrl")({
  /** The signed URL: fetch it with a plain GET, never with the API token. */
  url: SignedUrl,
  /** The decoded last path segment of the URL, e.g. `21d9cd93-….csv`. */
  fileName: Schema.String,
  /** When the URL stops being valid: when the response arrived (by `Clock`) plus {@link validity}. */
  expiresAt: Schema.DateTimeUtcFromSelf
}) {
  /**
   * Whether the URL has expired at the given instant.
   *
   * @since 0.1.0
   */
  isExpiredAt(now: DateTime.Utc): boolean {
    return DateTime.greaterThanOrEqualTo(now, this.expiresAt)
  }
}

/**
 * Decodes a download-endpoint body received at `receivedAt` into {@link DownloadUrl}s, in order.
 *
 * @since 0.1.0
 * @category constructors
 */
export const decodeBody = (
  body: unknown,
  receivedAt: DateTime.Utc
): Effect.Effect<ReadonlyArray<DownloadUrl>, ParseResult.ParseError> =>
  Effect.map(Schema.decodeUnknown(DownloadUrlsBody)(body), (urls) => {
    const expiresAt = DateTime.addDuration(receivedAt, validity)
    return urls.map((url) => new DownloadUrl({ url, fileName: fileNameOf(new URL(url)) ?? "", expiresAt }))
  })
