import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Rules from "../src/internal/taskResults/transferRules.js"

const limits: Rules.Limits = { fileName: "a.csv", maxResumes: 2, maxFileBytes: 1_000_000, trickleBytes: 100 }

const fresh = Rules.initial({ offset: 0, size: undefined, etag: undefined })

/** 400 bytes of the 1000-byte entity `"v1"` had. */
const partial: Rules.State = { ...fresh, offset: 400, validator: "\"v1\"", size: 1000, mark: 400 }

const headers = (h: Partial<Rules.Headers> = {}): Rules.Headers => ({
  etag: undefined,
  contentLength: undefined,
  contentRange: undefined,
  encoded: false,
  retryAfter: undefined,
  ...h
})

const answer = (status: number, h?: Partial<Rules.Headers>): Rules.Outcome => ({
  _tag: "Answer",
  status,
  headers: headers(h)
})

const ended = (end: Rules.BodyEnd, received: number): Rules.Outcome => ({ _tag: "BodyEnded", end, received })

/** The decision, reduced to what a row of a table says. */
const summary = (decision: Rules.Decision) => {
  switch (decision._tag) {
    case "Receive":
      return { _tag: "Receive", offset: decision.start.offset, size: decision.start.size, expected: decision.expected }
    case "Fail":
      return { _tag: "Fail", reason: decision.error.reason, status: decision.error.status }
    case "Retry":
      return { _tag: "Retry", status: decision.status, reason: decision.error.reason }
    default:
      return { _tag: decision._tag }
  }
}

/** A row: its name, the state, what happened, the decision expected and, optionally, fields of the next state. */
type Row = readonly [string, Rules.State, Rules.Outcome, ReturnType<typeof summary>, Partial<Rules.State>?]

const specify = (table: ReadonlyArray<Row>) => {
  for (const [name, state, outcome, expected, expectedState] of table) {
    it(name, () => {
      const [next, decision] = Rules.decide(limits, state, outcome)
      assert.deepStrictEqual(summary(decision), expected)
      if (expectedState !== undefined) assert.deepInclude(next, expectedState)
    })
  }
}

describe("transferRules.decide", () => {
  describe("answers", () => {
    const table: ReadonlyArray<Row> = [
      [
        "200: the file from byte 0, its size from Content-Length, its strong ETag kept as the validator",
        fresh,
        answer(200, { etag: "\"v1\"", contentLength: 1000 }),
        { _tag: "Receive", offset: 0, size: 1000, expected: 1000 },
        { validator: "\"v1\"", size: 1000 }
      ],
      [
        "200 with a weak ETag: no validator (a drop then starts over)",
        fresh,
        answer(200, { etag: "W/\"v1\"", contentLength: 1000 }),
        { _tag: "Receive", offset: 0, size: 1000, expected: 1000 },
        { validator: undefined }
      ],
      [
        "200 to a range request: the host ignored the range, the file starts over",
        partial,
        answer(200, { etag: "\"v1\"", contentLength: 1000 }),
        { _tag: "Receive", offset: 0, size: 1000, expected: 1000 },
        { offset: 0 }
      ],
      [
        "200 encoded: counted on its encoded bytes, the decoded size unknown, never resumable",
        fresh,
        answer(200, { etag: "\"v1\"", contentLength: 300, encoded: true }),
        { _tag: "Receive", offset: 0, size: undefined, expected: 300 },
        { validator: undefined, size: undefined }
      ],
      [
        "200 announcing more than maxFileBytes: SizeMismatch before the body",
        fresh,
        answer(200, { contentLength: 2_000_000 }),
        { _tag: "Fail", reason: "SizeMismatch", status: undefined }
      ],
      [
        "206 for exactly the rest of the same entity: continues at the offset",
        partial,
        answer(206, { etag: "\"v1\"", contentRange: "bytes 400-999/1000", contentLength: 600 }),
        { _tag: "Receive", offset: 400, size: 1000, expected: 600 }
      ],
      [
        "206 without an ETag: never appended, the file starts over",
        partial,
        answer(206, { contentRange: "bytes 400-999/1000", contentLength: 600 }),
        { _tag: "Request" },
        { validator: undefined, stalls: 1 }
      ],
      [
        "206 of another entity: starts over",
        partial,
        answer(206, { etag: "\"v2\"", contentRange: "bytes 400-999/1000" }),
        { _tag: "Request" },
        { validator: undefined }
      ],
      [
        "206 at another byte: starts over",
        partial,
        answer(206, { etag: "\"v1\"", contentRange: "bytes 300-999/1000" }),
        { _tag: "Request" },
        { validator: undefined }
      ],
      [
        "206 of another size: starts over",
        partial,
        answer(206, { etag: "\"v1\"", contentRange: "bytes 400-1999/2000" }),
        { _tag: "Request" },
        { validator: undefined }
      ],
      [
        "206 not to the end of the file: starts over",
        partial,
        answer(206, { etag: "\"v1\"", contentRange: "bytes 400-499/1000" }),
        { _tag: "Request" },
        { validator: undefined }
      ],
      [
        "206 whose Content-Length disagrees with its range: starts over",
        partial,
        answer(206, { etag: "\"v1\"", contentRange: "bytes 400-999/1000", contentLength: 10 }),
        { _tag: "Request" }
      ],
      [
        "206 encoded: starts over",
        partial,
        answer(206, { etag: "\"v1\"", contentRange: "bytes 400-999/1000", encoded: true }),
        { _tag: "Request" }
      ],
      [
        "206 for the whole file to a plain GET: the whole file",
        fresh,
        answer(206, { etag: "\"v1\"", contentRange: "bytes 0-999/1000", contentLength: 1000 }),
        { _tag: "Receive", offset: 0, size: 1000, expected: 1000 },
        { validator: "\"v1\"" }
      ],
      [
        "206 for part of the file to a plain GET: asked again, counted",
        fresh,
        answer(206, { etag: "\"v1\"", contentRange: "bytes 0-99/1000" }),
        { _tag: "Request" },
        { stalls: 1 }
      ],
      [
        "416 when the bytes had are the whole file: complete",
        { ...partial, offset: 1000, mark: 1000 },
        answer(416, { contentRange: "bytes */1000" }),
        { _tag: "Complete" }
      ],
      [
        "416 for another size: starts over",
        partial,
        answer(416, { contentRange: "bytes */1000" }),
        { _tag: "Request" },
        { validator: undefined }
      ],
      [
        "416 to a plain GET: a Status failure",
        fresh,
        answer(416),
        { _tag: "Fail", reason: "Status", status: 416 }
      ],
      ["403: fresh URLs", partial, answer(403), { _tag: "Refresh" }, { refreshed: true }],
      [
        "403 again before any new byte: Expired",
        { ...partial, refreshed: true },
        answer(403),
        { _tag: "Fail", reason: "Expired", status: 403 }
      ],
      ["429: retried, rate limited", fresh, answer(429), { _tag: "Retry", status: 429, reason: "Status" }],
      ["503: retried", fresh, answer(503), { _tag: "Retry", status: 503, reason: "Status" }],
      ["408: retried", fresh, answer(408), { _tag: "Retry", status: 408, reason: "Status" }],
      ["404: final", fresh, answer(404), { _tag: "Fail", reason: "Status", status: 404 }],
      ["302: final (redirects are not followed)", fresh, answer(302), { _tag: "Fail", reason: "Status", status: 302 }],
      [
        "no answer: retried, then a Transport failure",
        fresh,
        { _tag: "NoAnswer", timedOut: true, detail: "no headers within 30 seconds" },
        { _tag: "Retry", status: "timeout", reason: "Transport" }
      ]
    ]
    specify(table)
  })

  it("a Retry-After goes with the retry; the message of the last failure names the file and the status", () => {
    const [, decision] = Rules.decide(limits, fresh, answer(429, { retryAfter: Duration.seconds(7) }))
    assert.strictEqual(decision._tag, "Retry")
    if (decision._tag !== "Retry") return
    assert.deepStrictEqual(decision.retryAfter, Duration.seconds(7))
    assert.strictEqual(decision.error.message, "a.csv: the file host answered 429, retries exhausted")
  })

  describe("bodies", () => {
    const receiving: Rules.State = { ...partial, stalls: 1 }
    const table: ReadonlyArray<Row> = [
      ["every byte announced: complete", receiving, ended("complete", 600), { _tag: "Complete" }, { offset: 1000 }],
      [
        "a drop after new bytes: continued, the count of drops without progress starts again",
        receiving,
        ended("dropped", 100),
        { _tag: "Request" },
        { offset: 500, stalls: 0, mark: 500 }
      ],
      [
        "a drop without a new byte: counted",
        receiving,
        ended("dropped", 0),
        { _tag: "Request" },
        { offset: 400, stalls: 2 }
      ],
      [
        "past maxResumes drops without progress: TooManyResumes",
        { ...receiving, stalls: 2 },
        ended("idle", 0),
        { _tag: "Fail", reason: "TooManyResumes", status: undefined }
      ],
      [
        "a body slower than the low-speed limit: counted even with new bytes (a trickle is no progress)",
        receiving,
        ended("slow", 50),
        { _tag: "Request" },
        { offset: 450, stalls: 2, mark: 450 }
      ],
      [
        "a body gone idle after a trickle: counted",
        receiving,
        ended("idle", 99),
        { _tag: "Request" },
        { offset: 499, stalls: 2 }
      ],
      [
        "a body gone idle after more than a trickle: continued, not counted",
        receiving,
        ended("idle", 100),
        { _tag: "Request" },
        { offset: 500, stalls: 0 }
      ],
      [
        "a body ended short of its Content-Length: continued",
        receiving,
        ended("short", 10),
        { _tag: "Request" },
        { offset: 410, stalls: 0 }
      ],
      [
        "a byte past what was announced: SizeMismatch",
        receiving,
        ended("overflow", 600),
        { _tag: "Fail", reason: "SizeMismatch", status: undefined }
      ],
      [
        "new bytes after a refresh: a later 403 may refresh again",
        { ...receiving, refreshed: true },
        ended("dropped", 1),
        { _tag: "Request" },
        { refreshed: false }
      ]
    ]
    specify(table)
  })

  describe("rangeOf: what the next request asks for", () => {
    it("the rest of the file, with If-Range, when the bytes had belong to an entity with a strong ETag", () => {
      assert.deepStrictEqual(Rules.rangeOf(partial), { from: 400, ifRange: "\"v1\"" })
    })
    it("the whole file when the first answer had no validator: it restarts rather than resumes", () => {
      const [afterAnswer] = Rules.decide(limits, fresh, answer(200, { contentLength: 1000 }))
      const [afterDrop, decision] = Rules.decide(limits, afterAnswer, ended("dropped", 300))
      assert.strictEqual(decision._tag, "Request")
      assert.strictEqual(afterDrop.offset, 300)
      assert.isUndefined(Rules.rangeOf(afterDrop))
    })
    it("the whole file from the start, and after a range that did not fit", () => {
      assert.isUndefined(Rules.rangeOf(fresh))
      const [next] = Rules.decide(limits, partial, answer(206, { contentRange: "bytes 400-999/1000" }))
      assert.isUndefined(Rules.rangeOf(next))
    })
    it("an earlier run's bytes with a weak ETag are not continued", () => {
      assert.isUndefined(Rules.rangeOf(Rules.initial({ offset: 400, size: 1000, etag: "W/\"v1\"" })))
    })
  })
})
