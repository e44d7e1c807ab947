import * as Redacted from "effect/Redacted"

const replacement = "<redacted>"

const hex = (code: number, width: number) => code.toString(16).padStart(width, "0")

const htmlEntities: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "\"": "&quot;",
  "'": "&#39;"
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")

/**
 * The forms one character of a secret takes when a server echoes it, in either case: as sent, JSON-escaped,
 * PHP-escaped (`\/`), `\u`-escaped (which covers Go's `\u003c`), URL-encoded (`%2F`, `+` for a space) and
 * HTML-escaped (named or numeric). Letters of escapes are matched in any case by the pattern's `i` flag.
 */
const formsOf = (char: string): ReadonlyArray<string> => {
  const forms = new Set<string>()
  for (const variant of new Set([char, char.toLowerCase(), char.toUpperCase()])) {
    // A character whose other case is longer (`ß` → `SS`) is matched as it is.
    if (variant.length !== char.length) continue
    forms.add(variant)
    forms.add(JSON.stringify(variant).slice(1, -1))
    forms.add(Array.from({ length: variant.length }, (_, i) => `\\u${hex(variant.charCodeAt(i), 4)}`).join(""))
    forms.add(encodeURIComponent(variant))
    const code = variant.codePointAt(0) ?? 0
    if (code < 0x80) forms.add(`%${hex(code, 2)}`)
    forms.add(`&#${code};`)
    forms.add(`&#x${hex(code, 1)};`)
    const entity = htmlEntities[variant]
    if (entity !== undefined) forms.add(entity)
  }
  if (char === "/") forms.add("\\/")
  if (char === " ") forms.add("+")
  // Longest first: the pattern tries `\u002f` before `\`.
  return [...forms].sort((a, b) => b.length - a.length)
}

/** One secret as a pattern: each of its characters in any of its forms, so that mixed escapes match too. */
const patternOf = (secret: string): string =>
  Array.from(secret, (char) => `(?:${formsOf(char).map(escapeRegExp).join("|")})`).join("")

/**
 * Blanks secrets out of text read from a server: an error page may echo what it was sent, in another case and
 * escaped in any of the usual ways. Applied to raw excerpts and to every decoded string alike.
 *
 * @internal
 */
export type Scrub = (text: string) => string

/**
 * A scrub of `secrets`, case-insensitive, in every form of {@link formsOf} and any mix of them. One pass of
 * one regular expression: at each position of the text, the pattern of a secret either fails within a few
 * characters or matches, so the cost is linear in the length of the text (times the secrets' length).
 *
 * @internal
 */
export const makeScrub = (secrets: ReadonlyArray<Redacted.Redacted<string>>): Scrub => {
  const values = [...new Set(secrets.map(Redacted.value).filter((value) => value !== ""))]
    // Longest first, so that a secret holding another is blanked whole.
    .sort((a, b) => b.length - a.length)
  if (values.length === 0) return (text) => text
  const pattern = new RegExp(values.map(patternOf).join("|"), "gi")
  return (text) => text.replace(pattern, replacement)
}
