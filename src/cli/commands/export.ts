/**
 * `textreveal export <resource> [--body JSON | --body @file.json] [--out DIR] [--no-download]
 * [--wait-for-slot DURATION] [--json]`: starts (or continues) an export, prints its task id, waits for it and
 * downloads its files.
 *
 * @internal
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as path from "node:path"
import * as TaskResults from "../../TaskResults.js"
import * as TextRevealClient from "../../TextRevealClient.js"
import * as Cli from "../command.js"
import * as Display from "../display.js"
import * as Flags from "../flags.js"
import { Stderr } from "../stderr.js"
import { Stdout } from "../stdout.js"

/** The largest `--body` read: filters, never megabytes. */
const maxBodyBytes = 1024 * 1024

/** `--body`: inline JSON, or `@file.json`; a JSON object either way. */
const parseBody = (
  given: string
): Effect.Effect<Readonly<Record<string, unknown>>, Cli.UsageError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    let text = given
    if (given.startsWith("@")) {
      const file = given.slice(1)
      const cannotRead = (why: string) =>
        new Cli.UsageError({ message: `--body ${given}: cannot read ${file}: ${why}` })
      const fs = yield* FileSystem.FileSystem
      const info = yield* Effect.mapError(fs.stat(file), (error) => cannotRead(error.message))
      if (info.size > maxBodyBytes) return yield* cannotRead(`over ${maxBodyBytes} bytes`)
      text = yield* Effect.mapError(fs.readFileString(file), (error) => cannotRead(error.message))
    }
    const parsed = yield* Effect.either(Effect.try(() => JSON.parse(text) as unknown))
    if (
      parsed._tag === "Left" || typeof parsed.right !== "object" || parsed.right === null || Array.isArray(parsed.right)
    ) {
      return yield* new Cli.UsageError({ message: "--body takes a JSON object (or @file.json holding one)." })
    }
    return parsed.right as Record<string, unknown>
  })

/** @internal */
export const command = Command.make(
  "export",
  {
    resource: Args.text({ name: "resource" }).pipe(
      Args.withDescription("The path between /v3/ and /export, e.g. universes/<id>/entities.")
    ),
    body: Options.text("body").pipe(
      Options.withPseudoName("JSON"),
      Options.optional,
      Options.withDescription("The export's JSON body, inline or @file.json. Default: {}.")
    ),
    out: Options.text("out").pipe(
      Options.withAlias("o"),
      Options.withPseudoName("DIR"),
      Options.optional,
      Options.withDescription(
        "The directory of the files, created when missing; run again with the same request, it continues the same export."
      )
    ),
    noDownload: Options.boolean("no-download").pipe(
      Options.withDescription("Only start the export and print its task id.")
    ),
    waitForSlot: Flags.duration("wait-for-slot").pipe(
      Options.optional,
      Options.withDescription(
        "How long to wait while another export runs (90s, 5m, 2h); 0 fails at once with exit code 5. Default: 2h."
      )
    ),
    ...Flags.common
  },
  (flags) => {
    const directory = Option.map(flags.out, (out) => path.resolve(out))
    const waitForSlot = Option.match(flags.waitForSlot, {
      onNone: () => undefined,
      onSome: (d) => Duration.toMillis(d) === 0 ? false as const : d
    })
    return Cli.run(
      flags,
      { directory: Option.getOrUndefined(directory) },
      Effect.scoped(Effect.gen(function*() {
        const stdout = yield* Stdout
        const stderr = yield* Stderr
        const body = Option.isNone(flags.body) ? undefined : yield* parseBody(flags.body.value)
        if (flags.noDownload) {
          const client = yield* TextRevealClient.TextRevealClient
          const taskId = yield* client.startExport(flags.resource, body, { waitForSlot })
          return yield* flags.json ? stdout.json({ taskId }) : stdout.line(taskId)
        }
        if (Option.isNone(directory)) {
          return yield* new Cli.UsageError({ message: "--out DIR is required (or --no-download)." })
        }
        const results = yield* TaskResults.TaskResults
        const mode = Display.modeOf(stderr, flags.quiet)
        const display = yield* Display.download(stderr, mode)
        const result = yield* results.export({
          resource: flags.resource,
          body,
          directory: directory.value,
          waitForSlot,
          onStarted: ({ continued, taskId }) =>
            (flags.json
              ? stderr.line(`textreveal: export task ${taskId}${continued ? " (continued)" : ""}`)
              : Effect.zipRight(
                stdout.line(taskId),
                continued ? stderr.line(`textreveal: continuing export task ${taskId}`) : Effect.void
              )).pipe(
                // A closed stdout fails the command when it prints the files; the export goes on meanwhile.
                Effect.ignore
              ),
          onProgress: display.onProgress
        })
        yield* display.done(result.files)
        yield* stderr.clear
        if (flags.json) return yield* stdout.json(result)
        for (const file of result.files) yield* stdout.line(`${file.path}\t${file.bytes}\t${file.sha256}`)
      }))
    )
  }
).pipe(
  Command.withDescription(
    "Start an export (or continue the one --out records), print its task id, wait for it and download its files."
  )
)
