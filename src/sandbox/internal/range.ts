/**
 * The conditional and partial request headers of the file host: `Range`, `If-Range`, `Accept-Encoding`.
 *
 * @internal
 */

/**
 * What to send for a request against an entity of `size` bytes.
 *
 * @internal
 */
export type Selection =
  | { readonly _tag: "Whole" }
  | { readonly _tag: "Partial"; readonly start: number; readonly end: number }
  | { readonly _tag: "Unsatisfiable" }

const whole: Selection = { _tag: "Whole" }

/**
 * Reads `Range` (single byte ranges only) under `If-Range`: a range is honoured only when `If-Range` is
 * absent or names the current ETag. `end` is exclusive.
 *
 * @internal
 */
export const select = (
  headers: { readonly range?: string | undefined; readonly ifRange?: string | undefined },
  size: number,
  etag: string
): Selection => {
  if (headers.range === undefined) return whole
  if (headers.ifRange !== undefined && headers.ifRange !== etag) return whole
  const match = /^bytes=(\d*)-(\d*)$/.exec(headers.range.trim())
  // Several ranges, another unit or garbage: answered with the whole entity, which HTTP allows.
  if (match === null || (match[1] === "" && match[2] === "")) return whole
  const [first, last] = [match[1]!, match[2]!]
  if (first === "") {
    const suffix = Number(last)
    return suffix === 0 ? { _tag: "Unsatisfiable" } : { _tag: "Partial", start: Math.max(0, size - suffix), end: size }
  }
  const start = Number(first)
  // A last byte before the first makes the header invalid, and an invalid `Range` is ignored.
  if (last !== "" && Number(last) < start) return whole
  if (start >= size) return { _tag: "Unsatisfiable" }
  return { _tag: "Partial", start, end: last === "" ? size : Math.min(Number(last), size - 1) + 1 }
}

/**
 * Whether an `Accept-Encoding` header takes gzip: named (or `*`) without `q=0`.
 *
 * @internal
 */
export const acceptsGzip = (header: string | undefined): boolean =>
  (header ?? "").split(",").some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(";").map((p) => p.trim())
    const q = params.find((p) => p.startsWith("q="))
    return (coding === "gzip" || coding === "*") && (q === undefined || Number(q.slice(2)) > 0)
  })
