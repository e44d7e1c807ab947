/**
 * The bearer tokens the sandbox has issued and when each expires, by `Clock`.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import * as Ids from "./ids.js"

/** @internal */
export interface Service {
  /** A new token, valid for the configured lifetime from now. */
  readonly issue: Effect.Effect<string>
  /** Whether a token was issued here and has not expired. */
  readonly isValid: (token: string) => Effect.Effect<boolean>
  /** Makes every token issued so far expire now. */
  readonly expireAll: Effect.Effect<void>
}

/** @internal */
export class Tokens extends Context.Tag("effect-textreveal/sandbox/internal/Tokens")<Tokens, Service>() {}

/** @internal */
export const make = (random: Random.Random, lifetime: Duration.Duration) =>
  Effect.map(Ref.make(new Map<string, number>()), (tokens) =>
    Tokens.of({
      issue: Effect.gen(function*() {
        const token = yield* Ids.token(random)
        const expiresAt = (yield* Clock.currentTimeMillis) + Duration.toMillis(lifetime)
        yield* Ref.update(tokens, (map) => new Map(map).set(token, expiresAt))
        return token
      }),
      isValid: (token) =>
        Effect.zipWith(
          Ref.get(tokens),
          Clock.currentTimeMillis,
          (map, now) => (map.get(token) ?? Number.NEGATIVE_INFINITY) > now
        ),
      expireAll: Effect.flatMap(
        Clock.currentTimeMillis,
        (now) => Ref.update(tokens, (map) => new Map([...map.keys()].map((token) => [token, now])))
      )
    }))
