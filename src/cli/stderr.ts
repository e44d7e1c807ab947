/**
 * Stderr, shared by the logger, the messages and the progress display: lines are written whole, and when a
 * display is drawn in place (a terminal), a line is written above it and the display redrawn below, so
 * that nothing tears. Every write is scrubbed of secrets.
 *
 * @internal
 */
import * as AnsiDoc from "@effect/printer-ansi/AnsiDoc"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import stringWidth from "string-width"
import type { Scrub } from "../internal/secrets.js"
import * as Redaction from "./redaction.js"

/** @internal */
export interface Service {
  /** Whether stderr is a terminal that understands cursor movement: progress is drawn in place. */
  readonly interactive: boolean
  /** Whether colours may be used (a terminal, and `NO_COLOR` unset). */
  readonly color: boolean
  /** The width of the terminal, in columns (80 when unknown). */
  readonly columns: () => number
  /** Writes one line (a newline is added), above the display when one is drawn. */
  readonly line: (text: string) => Effect.Effect<void>
  /** The same, for callers that cannot run an effect (the logger). */
  readonly unsafeLine: (text: string) => void
  /** Replaces the display drawn in place with these lines (terminal only; each is cut to the width). */
  readonly draw: (lines: ReadonlyArray<string>) => Effect.Effect<void>
  /** Removes the display, leaving the cursor where it started. */
  readonly clear: Effect.Effect<void>
}

/** @internal */
export class Stderr extends Context.Tag("effect-textreveal/cli/Stderr")<Stderr, Service>() {}

const render = (doc: AnsiDoc.AnsiDoc) => AnsiDoc.render(doc, { style: "pretty" })
const hideCursor = render(AnsiDoc.cursorHide)
const showCursor = render(AnsiDoc.cursorShow)
const eraseDown = render(AnsiDoc.cat(AnsiDoc.cursorLeft, AnsiDoc.eraseDown))
const up = (lines: number) => render(AnsiDoc.cursorUp(lines))

const escapes = /\x1b\[[0-9;?]*[ -/]*[@-~]/g

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" })

/**
 * Cuts a styled line to `width` terminal columns (wide characters take two, escape sequences none), between
 * characters, keeping its escape sequences (and resetting at the end).
 */
const cut = (line: string, width: number): string => {
  if (stringWidth(line) <= width) return line
  let out = ""
  let visible = 0
  for (let i = 0; i < line.length;) {
    escapes.lastIndex = i
    const next = escapes.exec(line)
    if (next !== null && next.index === i) {
      out += next[0]
      i += next[0].length
      continue
    }
    const end = next === null ? line.length : next.index
    for (const { segment } of segmenter.segment(line.slice(i, end))) {
      const columns = stringWidth(segment)
      if (visible + columns > width) return `${out}\x1b[0m`
      out += segment
      visible += columns
    }
    i = end
  }
  return `${out}\x1b[0m`
}

/**
 * Stderr over a Node stream.
 *
 * @internal
 */
export const make = (
  stream: NodeJS.WriteStream,
  options: { readonly scrub: Scrub; readonly env: Readonly<Record<string, string | undefined>> }
): Service => {
  const interactive = stream.isTTY === true && options.env.TERM !== "dumb"
  const color = interactive && options.env.NO_COLOR === undefined
  // A pseudo-terminal may report 0 columns: taken as unknown.
  const columns = () => Math.max(20, (stream.columns ?? 0) > 0 ? stream.columns : 80)
  let drawn = 0
  let frame: ReadonlyArray<string> = []

  const erase = () => drawn === 0 ? "" : `${up(drawn)}${eraseDown}`
  const paint = (lines: ReadonlyArray<string>) => {
    const width = columns() - 1
    drawn = lines.length
    return lines.length === 0 ? "" : lines.map((line) => `${cut(options.scrub(line), width)}\n`).join("")
  }

  const unsafeLine = (text: string) => {
    const line = `${options.scrub(text)}\n`
    stream.write(drawn === 0 ? line : `${erase()}${line}${paint(frame)}`)
  }

  return {
    interactive,
    color,
    columns,
    unsafeLine,
    line: (text) => Effect.sync(() => unsafeLine(text)),
    draw: (lines) =>
      Effect.sync(() => {
        if (!interactive) return
        const first = drawn === 0 && frame.length === 0
        frame = lines
        stream.write(`${first ? hideCursor : ""}${erase()}${paint(lines)}`)
      }),
    clear: Effect.sync(() => {
      if (!interactive || (drawn === 0 && frame.length === 0)) return
      frame = []
      stream.write(`${erase()}${showCursor}`)
      drawn = 0
    })
  }
}

/**
 * The process's stderr, scrubbed of the secrets in its environment.
 *
 * @internal
 */
export const layer: Layer.Layer<Stderr> = Layer.sync(
  Stderr,
  () => make(process.stderr, { scrub: Redaction.fromEnv(process.env), env: process.env })
)
