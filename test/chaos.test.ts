/**
 * The chaos run of `npm run chaos`, reduced to a few seconds: small files, concurrency 4, faults at high
 * rates on every route. Whatever the faults, no defect, no corrupt file under a final name, no record out
 * of place, and every file intact or named by a typed failure; the same seed meets the same faults.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type * as Sandbox from "../src/sandbox/Sandbox.js"
import { type ChaosReport, planFiles, runChaos } from "./fixtures/chaos.js"

const retryReasons = ["rate_limited", "transient", "renewal", "url_refresh", "resume"]
const endpoints = ["download", "status", "tasks", "token", "file"]

/** The per-route fault sequences of two runs, over the requests both made. */
const commonPrefixes = (a: ChaosReport, b: ChaosReport) =>
  Object.keys(a.faultSequence).filter((route) => route in b.faultSequence).map((route) => {
    const x = a.faultSequence[route]!
    const y = b.faultSequence[route]!
    const n = Math.min(x.length, y.length)
    return { route, a: x.slice(0, n), b: y.slice(0, n) }
  })

describe("chaos run (reduced)", () => {
  it.live(
    "8 files at concurrency 4 under heavy faults: intact or a typed failure naming the file, never corrupt",
    () =>
      Effect.gen(function*() {
        const files: ReadonlyArray<Sandbox.FileSpec> = [
          ...planFiles({ count: 8, big: 0, small: [300, 3_000] }),
          // Larger than the drops at 64 KiB, so that resumes with `Range` happen.
          { name: "chaos-09.csv", rows: 8_000 }
        ]
        const report = yield* runChaos({
          seed: 7,
          files,
          concurrency: 4,
          intensity: 2.5,
          retryAfter: 0,
          urlCalls: 10,
          runningFor: "200 millis",
          maxPasses: 10
        })

        assert.deepStrictEqual(report.defects, [], "defects")
        assert.deepStrictEqual(report.corrupt, [], "corrupt files under a final name")
        assert.deepStrictEqual(report.rows.misplaced, [], "records out of place")
        // Seed 7 ends with all 9 files intact (up to 10 passes, each resuming the last); the floor leaves
        // room for one file whose passes a starved machine spent on time limits.
        assert.isAtLeast(report.intact.length, files.length - 1, `intact: ${report.intact.join(", ")}`)
        for (const file of report.notIntact) {
          const named = report.failures.filter((failure) => failure.file === file.file)
          assert.isNotEmpty(named, `${file.file} is neither intact nor named by a failure`)
          assert.include(["DownloadError", "RowError"], named.at(-1)!.tag, `${file.file}: ${file.lastFailure}`)
        }
        for (const failure of report.failures) {
          assert.notStrictEqual(failure.tag, "unknown", `an untyped failure: ${failure.why}`)
          if (failure.tag === "DownloadError" || failure.tag === "RowError") {
            assert.include(
              files.map((f) => f.name),
              failure.file,
              `a failure names no file of the task: ${failure.why}`
            )
          }
        }
        // The faults did happen, on the API and on the file host.
        const faulted = (route: string) =>
          Object.values(report.requests[route]?.faults ?? {}).reduce((a, b) => a + b, 0)
        assert.isAbove(faulted("file"), 5)
        assert.isAbove(faulted("download"), 2)
        assert.isAbove(faulted("status") + faulted("tasks"), 2)

        // The metrics (a contract): each request the sandbox received is counted once under its route; when a
        // pass failed, requests still in flight were interrupted before their answer could be counted.
        const requests: Record<string, number> = {}
        for (const row of report.metrics) {
          if (row.name === "textreveal_requests_total") {
            assert.include(endpoints, row.tags["endpoint"])
            requests[row.tags["endpoint"]!] = (requests[row.tags["endpoint"]!] ?? 0) + row.count
          }
          if (row.name === "textreveal_retries_total") assert.include(retryReasons, row.tags["reason"])
        }
        const interrupted = report.failures.some((f) => f.step.startsWith("download") || f.step.startsWith("rows"))
        for (const route of endpoints) {
          const counted = requests[route] ?? 0
          const received = report.requests[route]?.requests ?? 0
          if (interrupted) assert.isAtMost(counted, received, `requests to ${route}`)
          else assert.strictEqual(counted, received, `requests to ${route}`)
        }
      }),
    { timeout: 60_000 }
  )

  it.live(
    "the same seed meets the same faults, request for request; another seed other faults",
    () =>
      Effect.gen(function*() {
        // One file at a time, so that each route's requests arrive in the order their faults were drawn.
        const run = (seed: number) =>
          runChaos({
            seed,
            files: planFiles({ count: 3, big: 0, small: [200, 2_000] }),
            concurrency: 1,
            intensity: 2.5,
            retryAfter: 0,
            urlCalls: 5,
            runningFor: "200 millis",
            maxPasses: 10
          })
        // Side by side: each run has its own sandbox, and its requests stay sequential.
        const [first, second, other] = yield* Effect.all([run(11), run(11), run(12)], { concurrency: "unbounded" })

        assert.strictEqual(second.taskId, first.taskId)
        assert.deepStrictEqual(second.digests, first.digests)
        const same = commonPrefixes(first, second)
        assert.isAbove(same.reduce((n, { a }) => n + a.length, 0), 40, "too few requests to compare")
        assert.isAbove(
          same.reduce((n, { a }) => n + a.filter((f) => f !== "-").length, 0),
          5,
          "too few faults to compare"
        )
        for (const { a, b, route } of same) assert.deepStrictEqual(b, a, `faults met by the ${route} requests`)

        assert.notStrictEqual(other.taskId, first.taskId)
        assert.isTrue(
          commonPrefixes(first, other).some(({ a, b }) => a.join() !== b.join()),
          "another seed met the same faults"
        )
        for (const report of [first, second, other]) {
          assert.deepStrictEqual(report.defects, [])
          assert.deepStrictEqual(report.corrupt, [])
        }
      }),
    { timeout: 60_000 }
  )
})
