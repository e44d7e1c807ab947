/**
 * Stdout: the command's output and nothing else. Writes wait while the reader is behind (a pipe into a
 * slow consumer keeps memory flat); a reader that went away (`| head`) ends the command quietly.
 *
 * @internal
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * The reader of stdout went away (EPIPE): the command stops, successfully, as `yes | head` does.
 *
 * @internal
 */
export class StdoutClosed extends Data.TaggedError("StdoutClosed")<{}> {}

/** @internal */
export interface Service {
  /** Whether stdout is a terminal (a person reads it): tables get a header row. */
  readonly interactive: boolean
  /** Writes the text as is, waiting while the reader is behind. */
  readonly write: (text: string) => Effect.Effect<void, StdoutClosed>
  /** Writes the text and a newline. */
  readonly line: (text: string) => Effect.Effect<void, StdoutClosed>
  /** Writes a value as JSON, indented by two spaces, and a newline. */
  readonly json: (value: unknown) => Effect.Effect<void, StdoutClosed>
  /** Waits until everything written has been handed to the operating system. */
  readonly flush: Effect.Effect<void>
}

/** @internal */
export class Stdout extends Context.Tag("effect-textreveal/cli/Stdout")<Stdout, Service>() {}

/**
 * Stdout over a Node stream.
 *
 * @internal
 */
export const make = (stream: NodeJS.WritableStream): Service => {
  let closed = false
  const waiting = new Set<() => void>()
  stream.on("error", () => {
    // EPIPE and the like: nobody reads any more. Pending writes give up; the command ends.
    closed = true
    for (const wake of waiting) wake()
    waiting.clear()
  })

  const write = (text: string): Effect.Effect<void, StdoutClosed> =>
    Effect.async<void, StdoutClosed>((resume) => {
      if (closed) return resume(Effect.fail(new StdoutClosed()))
      if (stream.write(text)) return resume(Effect.void)
      const wake = () => {
        stream.removeListener("drain", wake)
        waiting.delete(wake)
        resume(closed ? Effect.fail(new StdoutClosed()) : Effect.void)
      }
      waiting.add(wake)
      stream.once("drain", wake)
      return Effect.sync(() => {
        stream.removeListener("drain", wake)
        waiting.delete(wake)
      })
    })

  return {
    interactive: (stream as { readonly isTTY?: boolean }).isTTY === true,
    write,
    line: (text) => write(`${text}\n`),
    json: (value) => write(`${JSON.stringify(value, null, 2)}\n`),
    flush: Effect.async<void>((resume) => {
      if (closed) return resume(Effect.void)
      stream.write("", () => resume(Effect.void))
    })
  }
}

/**
 * The process's stdout.
 *
 * @internal
 */
export const layer: Layer.Layer<Stdout> = Layer.sync(Stdout, () => make(process.stdout))
