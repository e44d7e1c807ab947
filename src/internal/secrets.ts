import * as Redacted from "effect/Redacted"

const replacement = "<redacted>"

const hex4 = (code: number) => code.toString(16).padStart(4, "0")

/**
 * The forms a secret takes when a server echoes it: as sent, JSON-escaped, PHP-escaped (`\/`), Go-escaped
 * (`\u003c`), fully `\u`-escaped, URL-encoded and HTML-escaped.
 */
const echoesOf = (secret: string): ReadonlyArray<string> => {
  const json = JSON.stringify(secret).slice(1, -1)
  const units = Array.from({ length: secret.length }, (_, i) => hex4(secret.charCodeAt(i)))
  return [
    secret,
    json,
    json.replaceAll("/", "\\/"),
    json.replaceAll("<", "\\u003c").replaceAll(">", "\\u003e").replaceAll("&", "\\u0026"),
    units.map((u) => `\\u${u}`).join(""),
    units.map((u) => `\\u${u.toUpperCase()}`).join(""),
    encodeURIComponent(secret),
    encodeURIComponent(secret).replaceAll("%20", "+"),
    secret.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll("\"", "&quot;")
      .replaceAll("'", "&#39;")
  ]
}

/**
 * Blanks secrets out of text read from a server: an error page may echo what it was sent, escaped in any of
 * the usual ways. Applied to raw excerpts and to every decoded string alike.
 *
 * @internal
 */
export type Scrub = (text: string) => string

/** @internal */
export const makeScrub = (secrets: ReadonlyArray<Redacted.Redacted<string>>): Scrub => {
  const echoes = [
    ...new Set(secrets.flatMap((secret) => {
      const value = Redacted.value(secret)
      return value === "" ? [] : echoesOf(value)
    }))
  ]
    // Longest first, so that an escaped form is not half-replaced by a shorter one.
    .sort((a, b) => b.length - a.length)
  return (text) => echoes.reduce((scrubbed, echo) => scrubbed.replaceAll(echo, replacement), text)
}
