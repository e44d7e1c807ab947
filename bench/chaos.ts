/**
 * The chaos run: a seeded sandbox with faults at rates on every route (429 with and without `Retry-After`,
 * 503, an HTML 502, bodies cut short, slow bodies, URLs expiring early, a file replaced under its name,
 * tokens expiring halfway), 50 files (three of 100 MB and more) downloaded at concurrency 8 with
 * `TaskResults.download`, then read back with `TaskResults.rows`. Prints one table; exits 1 when a defect,
 * a corrupt file under a final name or a misplaced record was seen.
 *
 *   npm run chaos [-- --seed N] [--files N] [--concurrency N] [--quick] [--keep]
 *
 * The same seed gives the same faults: the n-th request of each route meets the same fault on every run.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { formatReport, passed, planFiles, runChaos } from "../test/fixtures/chaos.js"

const usage = "usage: tsx bench/chaos.ts [--seed N] [--files N] [--concurrency N] [--quick] [--keep]"

const parseArgs = (argv: ReadonlyArray<string>) => {
  const flags = { seed: 42, files: undefined as number | undefined, concurrency: 8, quick: false, keep: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const number = () => {
      const value = Number(argv[++i])
      if (!Number.isSafeInteger(value)) throw new Error(`${arg} takes a whole number\n${usage}`)
      return value
    }
    if (arg === "--seed") flags.seed = number()
    else if (arg === "--files") flags.files = number()
    else if (arg === "--concurrency") flags.concurrency = number()
    else if (arg === "--quick") flags.quick = true
    else if (arg === "--keep") flags.keep = true
    else if (arg === "--help" || arg === "-h") {
      console.log(usage)
      process.exit(0)
    } else throw new Error(`unknown argument ${arg}\n${usage}`)
  }
  return flags
}

const flags = parseArgs(process.argv.slice(2))
const count = Math.max(1, flags.files ?? (flags.quick ? 12 : 50))
const files = flags.quick
  ? planFiles({ count, big: 0, small: [1_000, 40_000] })
  : planFiles({ count, big: Math.min(3, Math.floor(count / 10)), small: [2_000, 60_000] })

const main = Effect.gen(function*() {
  yield* Console.log(
    `chaos: seed ${flags.seed}, ${files.length} files, concurrency ${flags.concurrency}${flags.quick ? ", quick" : ""}`
  )
  const report = yield* runChaos({
    seed: flags.seed,
    files,
    concurrency: Math.max(1, flags.concurrency),
    keep: flags.keep,
    onStep: (line) => console.log(line)
  })
  yield* Console.log("")
  yield* Console.log(formatReport(report))
  if (!passed(report)) {
    yield* Console.error("\nchaos: FAILED (defects, corrupt files or misplaced records above)")
    process.exitCode = 1
  }
})

NodeRuntime.runMain(main)
