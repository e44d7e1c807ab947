/**
 * The answers of the sandbox, each body encoded with the library's own wire schema: client and sandbox share
 * one definition of every body.
 *
 * @internal
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Schema from "effect/Schema"
import * as Wire from "../../internal/wire.js"
import { FieldError } from "../../TextRevealError.js"

/**
 * A JSON answer encoded with a wire schema.
 *
 * @internal
 */
export const json = <A, I>(
  schema: Schema.Schema<A, I>,
  value: A,
  options?: HttpServerResponse.Options.WithContentType
): HttpServerResponse.HttpServerResponse =>
  // The sandbox builds every value it encodes: a failure to encode would be a bug in the sandbox itself.
  HttpServerResponse.unsafeJson(Schema.encodeSync(schema)(value), options)

/** @internal */
export interface FieldProblem {
  readonly field: string
  readonly reason: string
  readonly message: string
}

/**
 * The documented error body `{ message, code, reason, errors? }` with `code` = the status.
 *
 * @internal
 */
export const apiError = (
  status: number,
  message: string,
  reason: string,
  options: { readonly errors?: ReadonlyArray<FieldProblem>; readonly headers?: Record<string, string> } = {}
): HttpServerResponse.HttpServerResponse =>
  json(Wire.ErrorBody, {
    message,
    code: status,
    reason,
    ...(options.errors === undefined ? {} : { errors: options.errors.map((e) => new FieldError(e)) })
  }, { status, ...(options.headers === undefined ? {} : { headers: options.headers }) })

/**
 * The message the API answers a 400 with when it names no cause.
 *
 * @internal
 */
export const unexpected = "The server returned an unexpected response"

/**
 * A 400 `invalid` with field errors.
 *
 * @internal
 */
export const invalid = (errors: ReadonlyArray<FieldProblem>, message = unexpected) =>
  apiError(400, message, "invalid", { errors })

/** @internal */
export const notFound = (message = "[route] not found.") => apiError(404, message, "not_found")

/** @internal */
export const forbidden = () => apiError(403, "Not authorized to access this resource", "forbidden")

/**
 * A refused token request, in the OAuth 2.0 form.
 *
 * @internal
 */
export const tokenError = (status: number, error: string, description: string) =>
  json(Wire.TokenErrorBody, { error, error_description: description }, { status })

const titles: Record<number, string> = {
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Temporarily Unavailable",
  504: "Gateway Time-out"
}

/**
 * An HTML error page as a proxy in front of the API sends.
 *
 * @internal
 */
export const htmlPage = (status: number) => {
  const title = `${status} ${titles[status] ?? "Error"}`
  return HttpServerResponse.text(
    `<html>\n<head><title>${title}</title></head>\n<body>\n<center><h1>${title}</h1></center>\n<hr><center>nginx</center>\n</body>\n</html>\n`,
    { status, contentType: "text/html" }
  )
}

/**
 * The XML error body cloud storage answers with, e.g. `AccessDenied` / `Request has expired`.
 *
 * @internal
 */
export const storageError = (status: number, code: string, message: string) =>
  HttpServerResponse.text(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>\n`,
    { status, contentType: "application/xml" }
  )
