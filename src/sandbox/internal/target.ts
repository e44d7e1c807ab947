/**
 * The request target, read once without throwing: a target that is not a URL (`GET http://[`) is the
 * client's error, answered 400, never a crash of the handler.
 *
 * @internal
 */
import * as Option from "effect/Option"

/** @internal */
export interface Target {
  /** The path as sent (origin form), or as parsed (absolute form). */
  readonly path: string
  readonly query: URLSearchParams
}

const base = "http://sandbox.invalid"

/** @internal */
export const parse = (url: string): Option.Option<Target> => {
  if (url.startsWith("/")) {
    if (!URL.canParse(url, base)) return Option.none()
    const q = url.indexOf("?")
    return Option.some(
      q === -1
        ? { path: url, query: new URLSearchParams() }
        : { path: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1)) }
    )
  }
  if (!URL.canParse(url)) return Option.none()
  const parsed = new URL(url)
  return Option.some({ path: parsed.pathname, query: parsed.searchParams })
}
