/**
 * What `textreveal` writes on stderr passes through here: the secrets of the environment, in every escaped
 * form a server may echo them in, and any bearer token are blanked out. The library already redacts its
 * errors and logs; this is the last line, for whatever a future change lets through.
 *
 * @internal
 */
import * as Redacted from "effect/Redacted"
import { makeScrub, type Scrub } from "../internal/secrets.js"

/** The variables whose values are never printed. */
const secretVariables = ["TEXTREVEAL_TOKEN", "TEXTREVEAL_PASSWORD", "TEXTREVEAL_USERNAME"] as const

/** Shorter values would blank out ordinary words: they are not scrubbed (nor likely to be real secrets). */
const shortest = 4

const bearer = /\b(Bearer\s+)[^\s"',;]+/gi

/**
 * A scrub of the secrets in `env` and of `Bearer <token>` forms.
 *
 * @internal
 */
export const fromEnv = (env: Readonly<Record<string, string | undefined>>): Scrub => {
  const secrets = secretVariables.flatMap((name) => {
    const value = env[name]
    return value === undefined || value.length < shortest ? [] : [Redacted.make(value)]
  })
  const scrub = makeScrub(secrets)
  return (text) => scrub(text).replace(bearer, "$1<redacted>")
}
