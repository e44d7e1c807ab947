/**
 * Identifiers drawn from the sandbox's own `Random`: task ids, bearer tokens and the signing key, so that a
 * sandbox with a fixed seed gives the same ones on every run.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Random from "effect/Random"

/**
 * `n` random bytes.
 *
 * @internal
 */
export const bytes = (random: Random.Random, n: number): Effect.Effect<Uint8Array> =>
  Effect.map(
    Effect.all(Array.from({ length: n }, () => random.nextIntBetween(0, 256))),
    (values) => Uint8Array.from(values)
  )

/**
 * A version 4 UUID, in lower case.
 *
 * @internal
 */
export const uuid = (random: Random.Random): Effect.Effect<string> =>
  Effect.map(bytes(random, 16), (b) => {
    b[6] = (b[6]! & 0x0f) | 0x40
    b[8] = (b[8]! & 0x3f) | 0x80
    const hex = Buffer.from(b).toString("hex")
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
  })

/**
 * A bearer token: `sbx.` and 24 random bytes in base64url.
 *
 * @internal
 */
export const token = (random: Random.Random): Effect.Effect<string> =>
  Effect.map(bytes(random, 24), (b) => `sbx.${Buffer.from(b).toString("base64url")}`)
