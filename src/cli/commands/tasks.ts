/**
 * `textreveal tasks [--size N] [--limit N]`: the tasks of the account, in the order the API gives them.
 *
 * @internal
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Task from "../../Task.js"
import * as TextRevealClient from "../../TextRevealClient.js"
import * as Cli from "../command.js"
import * as Flags from "../flags.js"
import { Stdout } from "../stdout.js"

const encodeTask = Schema.encodeSync(Task.Task)

/** `<id>  <status>  <created>  <description>`: the id first, so that `awk '{print $1}'` gets it. */
const plain = (task: Task.Task) =>
  row(
    task.id,
    task.status ?? "-",
    task.created_at === undefined ? "-" : DateTime.formatIso(task.created_at),
    task.description ?? ""
  )

const row = (id: string, status: string, created: string, description: string) =>
  [id.padEnd(36), status.padEnd(9), created.padEnd(24), description].join("  ").trimEnd()

/** The header row, printed when a person reads stdout on a terminal (never into a pipe). */
const header = row("ID", "STATUS", "CREATED", "DESCRIPTION")

/** @internal */
export const command = Command.make(
  "tasks",
  {
    size: Flags.integer("size", 1, 1000).pipe(
      Options.withDefault(100),
      Options.withDescription("Tasks fetched per page (1 to 1000).")
    ),
    limit: Flags.integer("limit", 0).pipe(
      Options.optional,
      Options.withDescription("Stop after this many tasks. Default: all.")
    ),
    ...Flags.common
  },
  (flags) =>
    Cli.run(
      flags,
      {},
      Effect.gen(function*() {
        const stdout = yield* Stdout
        const client = yield* TextRevealClient.TextRevealClient
        const all = client.listTasks({ size: flags.size })
        const tasks = Option.match(flags.limit, { onNone: () => all, onSome: (n) => Stream.take(all, n) })
        if (!flags.json) {
          if (stdout.interactive) yield* stdout.line(header)
          return yield* Stream.runForEach(tasks, (task) => stdout.line(plain(task)))
        }
        // A JSON array written as the pages come: memory stays flat however many tasks there are.
        let first = true
        yield* stdout.write("[")
        yield* Stream.runForEach(tasks, (task) => {
          const item = JSON.stringify(encodeTask(task), null, 2).replaceAll("\n", "\n  ")
          const separator = first ? "\n  " : ",\n  "
          first = false
          return stdout.write(`${separator}${item}`)
        })
        yield* stdout.write(first ? "]\n" : "\n]\n")
      })
    )
).pipe(
  Command.withDescription("List the tasks, one per line: id, status, created, description.")
)
