import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { parseRetryAfter } from "../src/internal/retryAfter.js"

const now = Date.UTC(2025, 5, 1, 8, 0, 0)

/** The parsed wait in milliseconds, or `"none"` (plain values: chai's deep equality cannot tell `Option`s apart). */
const parsedMillis = (value: string | undefined, nowMillis: number = now): number | "none" =>
  Option.match(parseRetryAfter(value, nowMillis), { onNone: () => "none", onSome: Duration.toMillis })

describe("parseRetryAfter", () => {
  it.effect.each([
    { value: "0", millis: 0 },
    { value: "7", millis: 7_000 },
    { value: " 120 ", millis: 120_000 },
    { value: new Date(now + 30_000).toUTCString(), millis: 30_000 },
    // The obsolete RFC 850 form is an HTTP-date too.
    { value: "Sunday, 01-Jun-25 08:01:00 GMT", millis: 60_000 },
    { value: new Date(now - 5_000).toUTCString(), millis: 0 }
  ])("reads $value", ({ millis, value }) =>
    Effect.sync(() => {
      assert.strictEqual(parsedMillis(value), millis)
    }))

  it.effect("is relative to the given time, not the wall clock", () =>
    Effect.sync(() => {
      assert.strictEqual(parsedMillis("Thu, 01 Jan 1970 00:01:00 GMT", 0), 60_000)
    }))

  it.effect("reads the asctime form as GMT, whatever the local time zone", () =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const saved = process.env["TZ"]
        process.env["TZ"] = "America/New_York"
        return saved
      }),
      () =>
        Effect.sync(() => {
          const asctime = "Sun Jun  1 08:02:00 2025"
          // Control: the time zone switch is in effect, so a zone-less date would be read 4 hours off.
          assert.notStrictEqual(Date.parse(asctime), Date.UTC(2025, 5, 1, 8, 2, 0))
          assert.strictEqual(parsedMillis(asctime), 120_000)
        }),
      (saved) =>
        Effect.sync(() => {
          if (saved === undefined) delete process.env["TZ"]
          else process.env["TZ"] = saved
        })
    ))

  it.effect("an absent header gives nothing", () =>
    Effect.sync(() => {
      assert.strictEqual(parsedMillis(undefined), "none")
    }))

  // Not delta-seconds (1*DIGIT) nor an HTTP-date; `Date.parse` is lenient and reads some of them as dates in 2001.
  it.effect.each(["", "soon", "120s", "1e3", "-5", "1.5", "soon 5", "10 20"])(
    "ignores the unreadable %j",
    (value) =>
      Effect.sync(() => {
        assert.strictEqual(parsedMillis(value), "none")
      })
  )
})
