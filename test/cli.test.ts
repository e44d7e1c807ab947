/**
 * The `textreveal` bin as users run it: the bundle built by `scripts/build-cli.mjs`, in child processes with
 * only the environment a test gives it. Only what a process shows is tested here: help and usage errors
 * answered before Effect loads, exit codes of signals, the sandbox command, a terminal. The commands'
 * behaviour is tested in process (`cli.handlers.test.ts`).
 *
 * Each help text and usage mistake is checked in process, through the bin's own dispatch (`answerInProcess`:
 * `Argv.decide`, then the program); a few of each are also run through the bin, which must answer the same,
 * byte for byte, with the same exit code.
 *
 * Each test's time limit is 20 s plus 20 s per child process it starts: a child loads the bundle
 * (a few hundred milliseconds of CPU), which a machine busy with other work stretches tenfold or more.
 */
import { assert, describe, it } from "@effect/vitest"
import { Sandbox } from "effect-textreveal/sandbox"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll } from "vitest"
import { libraryVersion } from "../src/internal/version.js"
import {
  answerInProcess,
  bin,
  build,
  cleanUp,
  type Env,
  type Result,
  run,
  sandboxEnv,
  start,
  tempDir
} from "./fixtures/cli.js"

beforeAll(() => build(), 120_000)
afterAll(cleanUp)

/** The time limit of a test that waits for `children` child processes. */
const limit = (children: number) => 20_000 + 20_000 * children

/** Runs `f` with a sandbox of its own, live (tasks progress and URLs expire in real time). */
const withSandbox = <A, E>(
  f: (sandbox: Sandbox.Service, env: Env) => Effect.Effect<A, E, Scope.Scope>,
  options?: Sandbox.Options
) =>
  Effect.flatMap(Sandbox.Sandbox, (sandbox) => f(sandbox, sandboxEnv(sandbox))).pipe(
    Effect.scoped,
    Effect.provide(Sandbox.layer(options))
  )

const unknownTask = "2f1a0c3e-6b7d-4e8f-9a0b-1c2d3e4f5a6b"

const lines = (text: string) => text.split("\n").filter((line) => line !== "")

/** The exit code, with the output in the message when it is not the one expected. */
const assertExit = (result: Result, code: number) =>
  assert.strictEqual(result.code, code, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`)

/** Runs each of `asked` through the bin, all at once: the same output and exit code as in process. */
const sameThroughTheBin = (asked: ReadonlyArray<ReadonlyArray<string>>) =>
  Effect.forEach(asked, (args) =>
    Effect.gen(function*() {
      const [inProcess, child] = yield* Effect.all([answerInProcess(args), run(args, {})])
      const what = `textreveal ${args.join(" ")}`
      assert.strictEqual(child.code, inProcess.code, `${what}: exit ${child.code}\nstderr: ${child.stderr}`)
      assert.strictEqual(child.stdout, inProcess.stdout, `${what}: stdout`)
      assert.strictEqual(child.stderr, inProcess.stderr, `${what}: stderr`)
    }), { concurrency: "unbounded", discard: true })

const hasScript = (() => {
  try {
    execFileSync("script", ["--version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

const commands = ["status", "wait", "urls", "download", "export", "rows", "tasks", "sandbox"]
const builtIns = ["--completions", "--log-level", "--wizard", "--version"]

describe.concurrent("textreveal bin", () => {
  it.live(
    "help of textreveal and of each command: at most 40 lines of at most 80 columns, defaults and examples; built-ins listed once",
    () =>
      Effect.gen(function*() {
        const asked = [["--help"], ["help"], ...commands.map((command) => ["help", command]), ["download", "-h"]]
        const results = yield* Effect.forEach(asked, (args) => answerInProcess(args))
        yield* sameThroughTheBin([asked[0]!, asked[commands.indexOf("download") + 2]!])
        for (const [index, result] of results.entries()) {
          const what = asked[index]!.join(" ")
          assertExit(result, 0)
          assert.strictEqual(result.stderr, "", what)
          const shown = result.stdout.split("\n").slice(0, -1)
          assert.isAtMost(shown.length, 40, `${what}: ${shown.length} lines`)
          for (const line of shown) assert.isAtMost(line.length, 80, `${what}: ${line}`)
          assert.notInclude(result.stdout, "\x1b[", "plain text when stdout is not a terminal")
          assert.notMatch(result.stdout, /A user-defined piece of text|A true or false value|This setting is optional/)
        }
        const [root, rootAgain, ...perCommand] = results.map((result) => result.stdout)
        assert.strictEqual(rootAgain, root, "textreveal help is textreveal --help")
        for (const command of commands) assert.match(root!, new RegExp(`^  ${command} +\\S`, "m"))
        for (const builtIn of builtIns) assert.include(root!, builtIn)
        for (const code of ["0", "1", "2", "3", "4", "5", "6", "7", "8", "130"]) {
          assert.match(root!, new RegExp(`^ +${code} +\\S`, "m"))
        }
        assert.include(root!, "TEXTREVEAL_USERNAME")
        for (const [index, text] of perCommand.slice(0, commands.length).entries()) {
          assert.match(text, new RegExp(`^Usage: textreveal ${commands[index]} `), "the usage line names the bin")
          assert.match(text, /\nExamples:\n  textreveal /)
          for (const builtIn of builtIns) {
            assert.notInclude(text, builtIn, `${commands[index]}: built-ins once, at the top`)
          }
        }
        const download = perCommand[commands.indexOf("download")]!
        assert.strictEqual(perCommand.at(-1), download, "download -h is textreveal help download")
        assert.match(download, /--concurrency N +files fetched at once, 1 to 64 \(default: 4\)/)
        assert.match(download, /--out DIR[^]*\(default: \.\/<task-id>\)/)
        assert.match(perCommand[commands.indexOf("sandbox")]!, /\(default: 8787\)/)
        assert.match(perCommand[commands.indexOf("wait")]!, /--timeout DURATION[^]*\(default:\s+no\s+limit\)/)
      }),
    { timeout: limit(2) }
  )

  it.live("-V and --version print the version alone", () =>
    Effect.gen(function*() {
      const results = yield* Effect.forEach([["-V"], ["--version"]], (args) => answerInProcess(args))
      for (const result of results) {
        assertExit(result, 0)
        assert.strictEqual(result.stdout, `${libraryVersion}\n`)
      }
      yield* sameThroughTheBin([["-V"]])
    }), { timeout: limit(1) })

  it.live(
    "bad usage exits 2, every first line prefixed textreveal: and naming the mistake; --wizard without a terminal does not wait",
    () =>
      Effect.gen(function*() {
        const cases: ReadonlyArray<readonly [ReadonlyArray<string>, RegExp]> = [
          [[], /^textreveal: a command is required: status, wait/],
          [["frobnicate"], /^textreveal: unknown command 'frobnicate'/],
          [["--foo", "status", unknownTask], /^textreveal: unknown option --foo\./],
          [["status", unknownTask, "--frob"], /^textreveal: unknown option '--frob'/],
          [["urls"], /^textreveal: missing argument <task-id>/],
          [["status", "not-a-uuid"], /^textreveal: a task id is a UUID.*"not-a-uuid"/],
          [
            ["download", unknownTask, "-c", "abc"],
            /^textreveal: --concurrency takes a whole number from 1 to 64, got "abc"/
          ],
          [["wait", unknownTask, "--timeout", "soon"], /^textreveal: expected a duration such as 90s, 5m, 2h.*"soon"/],
          [["status", unknownTask, "--wizard"], /^textreveal: --wizard asks its questions on a terminal/]
        ]
        const results = yield* Effect.forEach(cases, ([args]) => answerInProcess(args))
        // Through the bin: one refused before parsing, one by the program, and --wizard with stdin a pipe.
        yield* sameThroughTheBin([cases[1]![0], cases[5]![0], cases[8]![0]])
        for (const [index, result] of results.entries()) {
          assertExit(result, 2)
          assert.strictEqual(result.stdout, "")
          assert.match(result.stderr, cases[index]![1])
          assert.lengthOf(lines(result.stderr), 2, result.stderr)
          assert.notMatch(result.stderr, /\n\s+at /)
        }
      }),
    { timeout: limit(3) }
  )

  it.live.each([["SIGINT", 130], ["SIGTERM", 143]] as const)(
    "%s during a download exits %i and leaves only temporary files",
    ([signal, code]) =>
      withSandbox((sandbox, env) =>
        Effect.gen(function*() {
          const taskId = yield* sandbox.createTask({ files: [{ rows: 4000, name: "big.csv" }, { rows: 4000 }] })
          yield* sandbox.injectFault("file", Sandbox.Fault.SlowBody({ delay: "20 millis", chunkSize: 4096 }), {
            rate: 1
          })
          const out = tempDir()
          const running = yield* start(["download", taskId, "--out", out], env)
          yield* running.waitFor(/big\.csv: started/)
          running.child.kill(signal)
          const result = yield* running.result
          assertExit(result, code)
          assert.strictEqual(result.stdout, "")
          assert.match(result.stderr, /interrupted; files not finished are left under temporary names/)
          const left = fs.readdirSync(out)
          assert.include(left, ".big.csv.part")
          for (const name of left) assert.isTrue(name.startsWith("."), `${name} is not under a final name`)
        })
      ),
    { timeout: limit(1) }
  )

  it.live(
    "sandbox prints the export lines and demo task ids, serves the other commands, stops on Ctrl-C",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const sandbox = yield* start(["sandbox", "--port", "0"], {})
        yield* sandbox.waitFor(/RUNNING_TASK_ID=\S+\n/, "stdout")
        const exported = Object.fromEntries(
          lines(sandbox.stdout()).flatMap((line) => {
            const match = /^export (\w+)=(\S+)$/.exec(line)
            return match === null ? [] : [[match[1]!, match[2]!]]
          })
        )
        assert.includeMembers(Object.keys(exported), [
          "TEXTREVEAL_BASE_URL",
          "TEXTREVEAL_TOKEN_URL",
          "TEXTREVEAL_USERNAME",
          "TEXTREVEAL_PASSWORD",
          "TASK_ID",
          "RUNNING_TASK_ID"
        ])
        const done = yield* run(["status", exported.TASK_ID!], exported)
        assert.strictEqual(done.stdout, "completed\n")
        sandbox.child.kill("SIGINT")
        assertExit(yield* sandbox.result, 130)
      })),
    { timeout: limit(2) }
  )

  it.live.skipIf(!hasScript)(
    "in a terminal (util-linux `script`; skipped when missing), download draws bars and clears them at the end",
    () =>
      withSandbox((sandbox, env) =>
        Effect.gen(function*() {
          const taskId = yield* sandbox.createTask({
            files: [{ rows: 1500, name: "a.csv" }, { rows: 1500, name: "b.csv" }]
          })
          yield* sandbox.injectFault("file", Sandbox.Fault.SlowBody({ delay: "20 millis", chunkSize: 8192 }), {
            rate: 1
          })
          const out = tempDir()
          const command = `stty cols 120 rows 40 2>/dev/null; exec node ${
            JSON.stringify(bin)
          } download ${taskId} --out ${JSON.stringify(out)}`
          const result = yield* Effect.scoped(
            Effect.flatMap(start(["-qec", command, "/dev/null"], env, { command: "script" }), (r) => r.result)
          )
          assertExit(result, 0)
          const screen = result.stdout
          assert.include(screen, "\x1b[?25l", "the cursor is hidden while drawing")
          assert.match(screen, /a\.csv\s+\[[^\n]*\]\s+\d+%/, "a bar per file")
          assert.include(screen, "░")
          assert.match(screen, /total \(\d done\)/, "and one for the total")
          const end = screen.lastIndexOf("\x1b[?25h")
          const lastFrame = screen.lastIndexOf("total (")
          assert.isAbove(end, lastFrame, "the cursor is shown again after the last frame")
          assert.include(screen.slice(lastFrame, end), "\x1b[J", "the last frame is erased")
          const after = screen.slice(end)
          assert.include(after, path.join(out, "a.csv"))
          assert.include(after, path.join(out, "b.csv"))
          assert.notInclude(after, "█")
        })
      ),
    { timeout: limit(1) }
  )
})
