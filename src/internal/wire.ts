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

const lastSegment = (pathname: string): string | undefined => {
  try {
    return decodeURIComponent(pathname.slice(pathname.lastIndexOf("/") + 1))
  } catch {
    // A malformed percent-escape: the caller reports the URL as naming no file.
    return undefined
  }
}

/**
 * An absolute `http:`/`https:` URL whose last path segment names a file, parsed once into its URL and safe
 * file name. Encodes back to the URL string.
 *
 * @internal
 */
export const SignedUrl: Schema.Schema<SignedUrl, string> = Schema.transformOrFail(
  Schema.String,
  Schema.typeSchema(SignedUrlFields),
  {
    strict: true,
    decode: (s, _, ast) => {
      const url = parseUrl(s)
      if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
        return ParseResult.fail(new ParseResult.Type(ast, s, "must be an absolute http(s) URL"))
      }
      const segment = lastSegment(url.pathname)
      const fileName = segment === undefined ? "" : safeFileName(segment)
      return fileName === ""
        ? ParseResult.fail(new ParseResult.Type(ast, s, "must end with a file name"))
        : ParseResult.succeed({ url: s, fileName })
    },
    encode: (signed) => ParseResult.succeed(signed.url)
  }
).annotations({ identifier: "SignedUrl" })

/**
 * The 200 body of the download endpoint: a bare JSON array of signed URLs.
 *
 * @internal
 */
export const DownloadUrlsBody = Schema.Array(SignedUrl).annotations({ identifier: "DownloadUrlsBody" })

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
