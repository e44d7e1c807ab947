/**
 * `textreveal rows <task-id> [--format jsonl|csv] [--limit N]`: the records of the task's CSV files.
 *
 * @internal
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as TaskResults from "../../TaskResults.js"
import * as Cli from "../command.js"
import * as Csv from "../csv.js"
import * as Flags from "../flags.js"
import { Stderr } from "../stderr.js"
import { Stdout } from "../stdout.js"

/** @internal */
export const command = Command.make(
  "rows",
  {
    taskId: Flags.taskId,
    format: Options.choice("format", ["jsonl", "csv"]).pipe(
      Options.withAlias("f"),
      Options.withDefault("jsonl" as const),
      Options.withDescription("jsonl: one JSON object per record; csv: one header, then the records.")
    ),
    limit: Flags.integer("limit", 0).pipe(
      Options.optional,
      Options.withDescription("Stop after this many records. Default: all.")
    ),
    ...Flags.common
  },
  (flags) =>
    Cli.run(
      flags,
      { taskId: flags.taskId },
      Effect.gen(function*() {
        const stdout = yield* Stdout
        const stderr = yield* Stderr
        const results = yield* TaskResults.TaskResults
        const rows = results.rows(flags.taskId)
        const limited = Option.match(flags.limit, { onNone: () => rows, onSome: (n) => Stream.take(rows, n) })
        const line = flags.format === "csv"
          ? Csv.writer((extra) =>
            stderr.unsafeLine(
              `textreveal: records with columns the header lacks (${
                extra.join(", ")
              }): left out; --format jsonl keeps them`
            )
          )
          : (row: TaskResults.Row) => `${JSON.stringify(row)}\n`
        // One write per chunk of records: the output keeps up with the parser.
        yield* Stream.runForEachChunk(limited, (chunk) => stdout.write(Chunk.join(Chunk.map(chunk, line), "")))
      })
    )
).pipe(
  Command.withDescription("Print the records of the task's CSV files, as JSON Lines or CSV.")
)
