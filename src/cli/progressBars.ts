/**
 * The frames of the in-place display, built with `@effect/printer-ansi`: a bar per file being downloaded
 * (bytes, rate, ETA) and one for the total, and a spinner with the task's status while waiting. Pure: the
 * caller measures and decides when to draw.
 *
 * @internal
 */
import * as Ansi from "@effect/printer-ansi/Ansi"
import * as AnsiDoc from "@effect/printer-ansi/AnsiDoc"
import stringWidth from "string-width"

/**
 * `1.5 kB`, `12.3 MB`, `2.0 GB` (powers of 1000, as disks and networks count).
 *
 * @internal
 */
export const formatBytes = (bytes: number): string => {
  if (bytes < 1000) return `${Math.round(bytes)} B`
  const units = ["kB", "MB", "GB", "TB", "PB"]
  let value = bytes / 1000
  let unit = 0
  while (value >= 999.95 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

/**
 * `3.4 MB/s`, or `-` before a rate can be told.
 *
 * @internal
 */
export const formatRate = (bytesPerSecond: number | undefined): string =>
  bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond) ? "-" : `${formatBytes(bytesPerSecond)}/s`

/**
 * `45s`, `3m05s`, `2h03m`; `-` when unknown.
 *
 * @internal
 */
export const formatDuration = (seconds: number | undefined): string => {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return "-"
  const s = Math.ceil(seconds)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
}

const render = (doc: AnsiDoc.AnsiDoc, color: boolean) =>
  AnsiDoc.render(color ? doc : AnsiDoc.unAnnotate(doc), { style: "pretty" })

const styled = (text: string, style: Ansi.Ansi) => AnsiDoc.annotate(AnsiDoc.text(text), style)

/**
 * One line of progress.
 *
 * @internal
 */
export interface Bar {
  readonly label: string
  readonly bytes: number
  readonly size?: number | undefined
  /** Bytes per second, when known. */
  readonly rate?: number | undefined
  /** Whether this is the total line (styled apart). */
  readonly total?: boolean | undefined
}

/**
 * The label in exactly `columns` terminal columns: padded, or cut between characters with `…`. Wide
 * characters (CJK, emoji) take two columns; a name is never cut inside a character.
 *
 * @internal
 */
export const fitLabel = (label: string, columns: number): string => {
  const width = stringWidth(label)
  if (width <= columns) return `${label}${" ".repeat(columns - width)}`
  let out = ""
  let used = 0
  for (const { segment } of segmenter.segment(label)) {
    const next = stringWidth(segment)
    if (used + next > columns - 1) break
    out += segment
    used += next
  }
  return `${out}…${" ".repeat(columns - 1 - used)}`
}

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" })

const barWidth = 16

const fixedWidth = 1 + (barWidth + 2) + 1 + 4 + 1 + 19 + 1 + 10 + 1 + 9

/**
 * A progress line fitted to `width` columns: label, bar, percentage, bytes, rate and ETA.
 *
 * @internal
 */
export const bar = (line: Bar, width: number, color: boolean): string => {
  const labelWidth = Math.max(8, width - fixedWidth)
  const label = fitLabel(line.label, labelWidth)
  const known = line.size !== undefined && line.size > 0
  const fraction = known ? Math.min(1, line.bytes / line.size!) : line.size === 0 ? 1 : 0
  const filled = Math.round(fraction * barWidth)
  const eta = known && line.rate !== undefined && line.rate > 0 ? (line.size! - line.bytes) / line.rate : undefined
  const doc = AnsiDoc.hsep([
    line.total === true ? styled(label, Ansi.bold) : AnsiDoc.text(label),
    AnsiDoc.hcat([
      AnsiDoc.text("["),
      styled("█".repeat(filled), line.total === true ? Ansi.green : Ansi.cyan),
      styled("░".repeat(barWidth - filled), Ansi.blackBright),
      AnsiDoc.text("]")
    ]),
    AnsiDoc.text(known || line.size === 0 ? `${Math.floor(fraction * 100)}%`.padStart(4) : "   ?"),
    AnsiDoc.text(
      (known ? `${formatBytes(line.bytes)} / ${formatBytes(line.size!)}` : formatBytes(line.bytes)).padEnd(19)
    ),
    AnsiDoc.text(formatRate(line.rate).padEnd(10)),
    styled(`ETA ${formatDuration(eta)}`, Ansi.blackBright)
  ])
  return render(doc, color)
}

const spinnerFrames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

/**
 * The spinner line of `wait`: `⠋ task <id>: running (1m05s)`.
 *
 * @internal
 */
export const spinner = (
  tick: number,
  taskId: string,
  status: string | undefined,
  elapsedSeconds: number,
  color: boolean
): string =>
  render(
    AnsiDoc.hsep([
      styled(spinnerFrames[tick % spinnerFrames.length]!, Ansi.cyan),
      AnsiDoc.text(`task ${taskId}:`),
      styled(status ?? "checking", Ansi.bold),
      styled(`(${formatDuration(elapsedSeconds)})`, Ansi.blackBright)
    ]),
    color
  )
