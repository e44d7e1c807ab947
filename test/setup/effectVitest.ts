/**
 * `layer` of @effect/vitest assigns its block's `effect`, `scoped`, `layer`, ... onto vitest's `it`, one object
 * for every file of a worker, and leaves them there: a later file's `it.effect` would run in that block's
 * runtime, its `TestClock` (moved by every test since) included. Each file starts with the methods `it` had
 * when @effect/vitest was loaded.
 */
import { effect, flakyTest, it, layer, live, prop, scoped, scopedLive } from "@effect/vitest"

Object.assign(it, { effect, flakyTest, layer, live, prop, scoped, scopedLive })
