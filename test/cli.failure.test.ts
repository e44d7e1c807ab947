/**
 * The command line's pure parts: the failure of each error (exit code and lines), the help of each command
 * against the options `@effect/cli` parses, the width of progress lines.
 */
import * as CliConfig from "@effect/cli/CliConfig"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import { assert, describe, it } from "@effect/vitest"
import { TaskResults, TextRevealError } from "effect-textreveal"
import * as Duration from "effect/Duration"
import * as Argv from "../src/cli/argv.js"
import * as Download from "../src/cli/commands/download.js"
import * as Export from "../src/cli/commands/export.js"
import * as Rows from "../src/cli/commands/rows.js"
import * as Sandbox from "../src/cli/commands/sandbox.js"
import * as Status from "../src/cli/commands/status.js"
import * as Tasks from "../src/cli/commands/tasks.js"
import * as Urls from "../src/cli/commands/urls.js"
import * as Wait from "../src/cli/commands/wait.js"
import { ExitCode } from "../src/cli/exitCodes.js"
import * as Failure from "../src/cli/failure.js"
import * as Help from "../src/cli/help.js"
import * as Bars from "../src/cli/progressBars.js"

const taskId = "2f1a0c3e-6b7d-4e8f-9a0b-1c2d3e4f5a6b"

const tooManyRequests = (retryAfter: Duration.Duration | undefined) =>
  new TextRevealError.TooManyRequests({
    status: 429,
    message: "Too many requests",
    reason: "rate_limited",
    attempts: 9,
    ...(retryAfter === undefined ? {} : { retryAfter })
  })

describe("failure", () => {
  it("TooManyRequests: exit 5, the wait Retry-After asked for, and no wait at all for Retry-After: 0", () => {
    const zero = Failure.describe(tooManyRequests(Duration.zero))
    assert.strictEqual(zero.code, ExitCode.RateLimited)
    assert.match(zero.lines[0]!, /^textreveal: TextReveal is still rate limiting after 9 attempts/)
    assert.strictEqual(zero.lines[1], "Try again now.")
    assert.strictEqual(Failure.describe(tooManyRequests(Duration.millis(1500))).lines[1], "Try again in 2s or later.")
    assert.match(Failure.describe(tooManyRequests(undefined)).lines[1]!, /a few minutes/)
  })

  it("task results: TaskFailed 6, WaitTimeout 7, DeadlineExceeded and DownloadError 8 with the resume hint", () => {
    const context = { taskId, directory: "/tmp/out" }
    assert.strictEqual(Failure.describe(new TaskResults.TaskFailed({ taskId }), context).code, ExitCode.TaskFailed)
    const timeout = Failure.describe(new TaskResults.WaitTimeout({ taskId, status: "running" }), context)
    assert.strictEqual(timeout.code, ExitCode.NotCompleted)
    assert.include(timeout.lines[0], "last status: running")
    const deadline = Failure.describe(
      new TaskResults.DeadlineExceeded({ taskId, deadline: Duration.minutes(5) }),
      context
    )
    assert.strictEqual(deadline.code, ExitCode.Unavailable)
    assert.match(deadline.lines[0]!, /^textreveal: Task .* within the deadline \(5m\)/)
    assert.match(deadline.lines[1]!, /partial ones resume/)
    const download = Failure.describe(
      new TaskResults.DownloadError({ fileName: "a.csv", reason: "Status", status: 500, message: "status 500" }),
      context
    )
    assert.strictEqual(download.code, ExitCode.Unavailable)
    assert.match(download.lines[0]!, /^textreveal: a\.csv could not be downloaded: status 500/)
  })

  it("a system error code is found in a transport error's text", () => {
    assert.strictEqual(Failure.systemCode("127.0.0.1:9: ECONNREFUSED connect ECONNREFUSED 127.0.0.1:9"), "ECONNREFUSED")
    assert.isUndefined(Failure.systemCode("Transport: socket hang up"))
  })
})

/** The long option names a help text or `@effect/cli`'s help shows. */
const longOptions = (text: string) => new Set([...text.matchAll(/--[a-z][a-z-]*/g)].map((match) => match[0]))

describe("help", () => {
  const helpOf = <Name extends string, R, E, A>(command: Command.Command<Name, R, E, A>) =>
    HelpDoc.toAnsiText(Command.getHelp(command, CliConfig.defaultConfig))
  /** `@effect/cli`'s help of each command, which lists its options and the built-in ones. */
  const parsed: ReadonlyArray<readonly [string, string]> = [
    ["status", helpOf(Status.command)],
    ["wait", helpOf(Wait.command)],
    ["urls", helpOf(Urls.command)],
    ["download", helpOf(Download.command)],
    ["export", helpOf(Export.command)],
    ["rows", helpOf(Rows.command)],
    ["tasks", helpOf(Tasks.command)],
    ["sandbox", helpOf(Sandbox.command)]
  ]
  const builtIns = ["--completions", "--help", "--log-level", "--version", "--wizard"]

  it("each command's help lists exactly the options @effect/cli parses for it, and every command is listed", () => {
    assert.deepStrictEqual([...Help.commandNames].sort(), parsed.map(([name]) => name).sort())
    for (const [name, text] of parsed) {
      const spec = Help.find(name)!
      const ours = new Set(spec.options.flatMap((option) => [...longOptions(option.flags)]))
      ours.delete("--help")
      const theirs = [...longOptions(text)].filter((option) => !builtIns.includes(option))
      assert.deepStrictEqual([...ours].sort(), theirs.sort(), name)
    }
  })

  it("help is wrapped to the terminal's width, and measures wide characters by their columns", () => {
    for (const columns of [60, 100]) {
      const action = Argv.decide(["help", "download"], { columns, stdinIsTerminal: true })
      assert.strictEqual(action._tag, "Print")
      if (action._tag !== "Print") return
      for (const line of action.text.split("\n")) assert.isAtMost(Help.width(line), columns, line)
    }
    assert.strictEqual(Help.width("日本語"), 6)
    assert.strictEqual(Help.width("😀a"), 3)
    assert.strictEqual(Help.width("\x1b[1mbold\x1b[0m"), 4)
    assert.deepStrictEqual(Help.wrap("日本 日本 日本", 10), ["日本 日本", "日本"])
  })
})

describe("progress", () => {
  it("a bar's label takes its columns whatever its characters: wide ones count two, a cut never splits one", () => {
    assert.strictEqual(Bars.fitLabel("日本語.csv", 12), "日本語.csv  ")
    assert.strictEqual(Bars.fitLabel("日本語のファイル.csv", 9), "日本語の…")
    assert.strictEqual(Bars.fitLabel("😀😀😀😀.csv", 6), "😀😀… ")
    for (
      const label of ["a.csv", "日本語のファイル.csv", "😀😀😀😀😀😀.csv", "👩‍👩‍👧‍👦 family.csv", "e\u0301te\u0301.csv"]
    ) {
      for (const columns of [8, 9, 10, 30]) assert.strictEqual(Help.width(Bars.fitLabel(label, columns)), columns)
    }
    // Bars of wide and narrow names line up.
    const bar = (label: string) => Help.width(Bars.bar({ label, bytes: 10, size: 100 }, 100, false))
    assert.strictEqual(bar("日本語のファイル名がとても長い名前のファイル.csv"), bar("a.csv"))
    assert.strictEqual(bar("😀 report.csv"), bar("a.csv"))
  })
})
