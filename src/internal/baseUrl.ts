import * as ConfigError from "effect/ConfigError"
import * as Either from "effect/Either"

const refuse = (option: string, message: string) => Either.left(ConfigError.InvalidData([option], message))

/**
 * Checks a base URL once, when a layer is built, and gives it without a trailing slash. Refused: surrounding
 * spaces, a scheme other than http(s), credentials (never printed), a query, a fragment, and, when
 * `pathSuffix` is given, a path that does not end with it.
 *
 * @internal
 */
export const parseBaseUrl = (
  option: string,
  value: string,
  pathSuffix?: string
): Either.Either<string, ConfigError.ConfigError> => {
  if (value.trim() !== value) return refuse(option, `${option} has surrounding spaces`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    // Not a URL at all: the value is quoted back only when it holds no credentials.
    return refuse(option, `${option} is not an absolute URL${value.includes("@") ? "" : `: ${JSON.stringify(value)}`}`)
  }
  if (url.username !== "" || url.password !== "") {
    return refuse(option, `${option} must not carry credentials (user:password@); give them to Credentials instead`)
  }
  const shown = `${url.origin}${url.pathname}`
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return refuse(option, `${option} must be an http(s) URL, got ${url.protocol}`)
  }
  if (url.search !== "" || value.endsWith("?")) return refuse(option, `${option} must not have a query: ${shown}`)
  if (url.hash !== "" || value.endsWith("#")) return refuse(option, `${option} must not have a fragment: ${shown}`)
  const path = url.pathname.replace(/\/+$/, "")
  if (pathSuffix !== undefined && !path.endsWith(pathSuffix)) {
    return refuse(option, `${option} must end with ${pathSuffix} (e.g. https://api.textreveal.com/v3), got ${shown}`)
  }
  return Either.right(`${url.origin}${path}`)
}
