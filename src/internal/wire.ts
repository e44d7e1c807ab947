/**
 * The wire bodies of the TextReveal API and its token endpoint, defined once: the client decodes with
 * them and the sandbox encodes with them.
 *
 * @internal
 */
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Task from "../Task.js"
import { TaskId } from "../TaskId.js"
import { FieldError } from "../TextRevealError.js"
import { safeFileName } from "./fileName.js"

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

/**
 * The documented error body `{ message, code, reason, errors? }`, as the sandbox sends it.
 *
 * @internal
 */
export const ErrorBody = Schema.Struct({
  message: Schema.String,
  code: Schema.Number,
  reason: Schema.String,
  errors: Schema.optional(Schema.Array(FieldError))
})

/** A field that is read when it has the right type and ignored otherwise. */
const lenient = <A, I>(schema: Schema.Schema<A, I>) =>
  Schema.optional(Schema.Union(
    schema,
    Schema.transform(Schema.Unknown, Schema.Undefined, {
      strict: true,
      decode: () => undefined,
      encode: () => undefined
    })
  ))

/**
 * Any error body of the API or the token endpoint, read leniently: the API's `{ message, reason, errors }`
 * and OAuth's `{ error, error_description }`, each field kept only when it has the documented type, so
 * that a body of another shape still gives what it can.
 *
 * @internal
 */
export const LenientErrorBody = Schema.Struct({
  message: lenient(Schema.String),
  reason: lenient(Schema.String),
  errors: lenient(Schema.Array(FieldError)),
  error: lenient(Schema.String),
  error_description: lenient(Schema.String)
})

// ---------------------------------------------------------------------------------------------------------
// Token endpoint
// ---------------------------------------------------------------------------------------------------------

/**
 * The body of a token request: an OAuth 2.0 password grant. `username` is the API key, `password` the API
 * secret; both stay `Redacted` until encoded.
 *
 * @internal
 */
export const TokenRequestBody = Schema.Struct({
  grant_type: Schema.Literal("password"),
  username: Schema.Redacted(Schema.String),
  password: Schema.Redacted(Schema.String),
  audience: Schema.String,
  client_id: Schema.String
})

/**
 * A bearer token that can be sent in an `Authorization` header: visible ASCII only, no spaces.
 *
 * @internal
 */
export const BearerToken = Schema.String.pipe(
  Schema.pattern(/^[\x21-\x7e]+$/, {
    message: () => "the token is empty or holds characters that cannot be sent in a header"
  })
)

/**
 * The body of a successful token response. `expires_in` is in seconds.
 *
 * @internal
 */
export const TokenResponseBody = Schema.Struct({
  access_token: Schema.Redacted(BearerToken),
  expires_in: Schema.Number.pipe(Schema.positive(), Schema.finite()),
  token_type: Schema.String
})

/**
 * The body of a refused token request, in the OAuth 2.0 form. The API does not document it.
 *
 * @internal
 */
export const TokenErrorBody = Schema.Struct({
  error: Schema.String,
  error_description: Schema.optional(Schema.String)
})

// ---------------------------------------------------------------------------------------------------------
// Download endpoint
// ---------------------------------------------------------------------------------------------------------

/**
 * A signed URL as parsed once: the URL and the safe file name taken from its last path segment.
 *
 * @internal
 */
export interface SignedUrl {
  readonly url: string
  readonly fileName: string
}

const SignedUrlFields = Schema.Struct({ url: Schema.String, fileName: Schema.String })

const parseUrl = (s: string): URL | undefined => {
  try {
    return new URL(s)
  } catch {
    // Not a URL: the caller reports it as a parse issue.
    return undefined
  }
}

const isHexDigit = (byte: number) =>
  (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)

const hexValue = (byte: number) => byte <= 0x39 ? byte - 0x30 : (byte | 0x20) - 0x57

const utf8Encoder = new TextEncoder()

/** Not fatal: a byte sequence that is not UTF-8 decodes to U+FFFD, as a browser shows it. */
const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true })

/**
 * The WHATWG URL standard's percent-decoding followed by UTF-8 decoding with replacement: a `%` that starts
 * no escape stays as it is and bytes that are not UTF-8 become U+FFFD, so that any segment gives a name.
 */
const percentDecode = (segment: string): string => {
  if (!segment.includes("%")) return segment
  const input = utf8Encoder.encode(segment)
  const bytes = new Uint8Array(input.length)
  let length = 0
  for (let i = 0; i < input.length; i++) {
    const byte = input[i]!
    if (byte === 0x25 && i + 2 < input.length && isHexDigit(input[i + 1]!) && isHexDigit(input[i + 2]!)) {
      bytes[length++] = hexValue(input[i + 1]!) * 16 + hexValue(input[i + 2]!)
      i += 2
    } else {
      bytes[length++] = byte
    }
  }
  return utf8Decoder.decode(bytes.subarray(0, length))
}

/**
 * The file name of the URL at `position` (from 1) of a list: its decoded last path segment made safe, or
 * `file-<position>` when nothing of the segment is left (no segment, `.`, `..`, only spaces).
 */
const fileNameOf = (url: URL, position: number): string => {
  const fileName = safeFileName(percentDecode(url.pathname.slice(url.pathname.lastIndexOf("/") + 1)))
  return fileName === "" ? `file-${position}` : fileName
}

const isHttp = (url: URL | undefined): url is URL => url?.protocol === "https:" || url?.protocol === "http:"

/**
 * The 200 body of the download endpoint: a bare JSON array of absolute `http:`/`https:` URLs, each parsed
 * once into its URL and a safe file name (see `fileNameOf`: one that its segment cannot give is named after
 * the URL's position). An item that is not such a URL fails the body, with its index. Encodes back to the
 * URL strings.
 *
 * @internal
 */
export const DownloadUrlsBody: Schema.Schema<ReadonlyArray<SignedUrl>, ReadonlyArray<string>> = Schema
  .transformOrFail(
    Schema.Array(Schema.String),
    Schema.typeSchema(Schema.Array(SignedUrlFields)),
    {
      strict: true,
      decode: (urls, _, ast) => {
        const signed: Array<SignedUrl> = []
        for (let i = 0; i < urls.length; i++) {
          const url = parseUrl(urls[i]!)
          if (!isHttp(url)) {
            return ParseResult.fail(
              new ParseResult.Pointer(i, urls, new ParseResult.Type(ast, urls[i], "must be an absolute http(s) URL"))
            )
          }
          signed.push({ url: urls[i]!, fileName: fileNameOf(url, i + 1) })
        }
        return ParseResult.succeed(signed)
      },
      encode: (signed) => ParseResult.succeed(signed.map((s) => s.url))
    }
  ).annotations({ identifier: "DownloadUrlsBody" })

// ---------------------------------------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------------------------------------

/**
 * The body of `GET /tasks/{task_id}/status`.
 *
 * @internal
 */
export const StatusBody = Schema.Struct({ status: Task.TaskStatus })

/**
 * The body of `GET /tasks`: one page of tasks and the cursor of the next.
 *
 * @internal
 */
export const TaskListBody = Schema.Struct({
  data: Schema.Array(Task.Task),
  size: Schema.Number,
  has_next: Schema.Boolean,
  count: Schema.Number,
  search_after: Schema.NullOr(Schema.String)
})

/**
 * The body of a `POST /<resource>/export` answer.
 *
 * @internal
 */
export const ExportStartedBody = Schema.Struct({ task_id: TaskId })

/**
 * The body of a `POST /<resource>/export` request: a JSON object (the export's filters and fields, as the
 * resource documents them). The client encodes it, the sandbox decodes it.
 *
 * @internal
 */
export const ExportRequestBody = Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
  identifier: "ExportRequestBody"
})
