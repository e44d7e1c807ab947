/**
 * Deterministic CSV files of entity rows, generated while streaming, with random access by byte offset.
 *
 * Every row's variable-width fields depend only on its position in a cycle of {@link cycle} rows, so the
 * byte length of any prefix of the file is known without generating it: a file of any size has a
 * `Content-Length`, and a `Range` starts generating at the row that holds its first byte.
 *
 * @internal
 */
import * as Chunk from "effect/Chunk"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

/** @internal */
export const header = "entity_id,name,isin,ticker,country,sector,founded,sentiment\n"

const cycle = 256
const prefixes = [
  "Acme",
  "Northwind",
  "Globex",
  "Initech",
  "Umbrella",
  "Stark",
  "Wayne",
  "Tyrell",
  "Cyberdyne",
  "Soylent",
  "Hooli",
  "Vandelay",
  "Wonka",
  "Gringotts",
  "Oceanic",
  "Monarch"
]
const suffixes = [
  "Holdings",
  "Industries",
  "Group",
  "Capital",
  "Energy",
  "Pharma",
  "Systems",
  "Logistics",
  "Holdings, Inc.",
  "Bank",
  "Motors",
  "Foods",
  "Mining",
  "Telecom",
  "\"Blue\" Partners",
  "Labs"
]
const countries = ["US", "GB", "FR", "DE", "JP", "CA", "CH", "NL", "SE", "IT", "ES", "AU", "IE", "SG", "KR", "BR"]
const sectors = [
  "Technology",
  "Financials",
  "Health Care",
  "Energy",
  "Industrials",
  "Materials",
  "Utilities",
  "Real Estate",
  "Consumer Staples",
  "Consumer Discretionary",
  "Communication Services"
]

const csvField = (value: string): string => /[",\n]/.test(value) ? `"${value.replace(/"/g, "\"\"")}"` : value

/** The fields of a row that depend only on its position in the cycle, already CSV-encoded. */
const variable = Array.from({ length: cycle }, (_, k) => {
  const name = csvField(`${prefixes[k % 16]} ${suffixes[(k * 7 + (k >> 4)) % 16]}`)
  const country = countries[(k * 5) % 16]!
  const sector = csvField(sectors[(k * 3) % sectors.length]!)
  const sentiment = (((k * 37) % 201) - 100) / 100
  return { name, country, sector, sentiment: sentiment.toFixed(2) }
})

/** 32-bit mix (MurmurHash3's finaliser). */
const mix = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const hex8 = (n: number): string => n.toString(16).padStart(8, "0")

const isinCheckDigit = (body: string): number => {
  const digits = body.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55))
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i])
    if (i % 2 === 0) {
      d *= 2
      if (d > 9) d -= 9
    }
    sum += d
  }
  return (10 - (sum % 10)) % 10
}

/** Row `i` of the file with seed `seed`, newline included. */
const row = (seed: number, i: number): string => {
  const v = variable[i % cycle]!
  const a = mix(seed ^ Math.imul(i + 1, 0x9e3779b1))
  const b = mix(a ^ 0x85ebca6b)
  const c = mix(b ^ 0xc2b2ae35)
  const d = mix(c ^ 0x27d4eb2f)
  const id = `${hex8(a)}-${hex8(b).slice(0, 4)}-4${hex8(b).slice(5, 8)}-${(8 + (c & 3)).toString(16)}${
    hex8(c).slice(1, 4)
  }-${hex8(c).slice(4)}${hex8(d).slice(0, 8)}`
  const isinBody = `${v.country}${String(i % 1_000_000_000).padStart(9, "0")}`
  const isin = `${isinBody}${isinCheckDigit(isinBody)}`
  const ticker = String.fromCharCode(
    65 + (d % 26),
    65 + ((d >>> 5) % 26),
    65 + ((d >>> 10) % 26),
    65 + ((d >>> 15) % 26)
  )
  const founded = 1900 + (d >>> 20) % 125
  return `${id},${v.name},${isin},${ticker},${v.country},${v.sector},${founded},${v.sentiment}\n`
}

const rowLength = (k: number): number => row(0, k).length
/** prefix[k]: bytes of the first k rows of a cycle. */
const prefix = Array.from({ length: cycle + 1 }, () => 0)
for (let k = 0; k < cycle; k++) prefix[k + 1] = prefix[k]! + rowLength(k)
const cycleLength = prefix[cycle]!

/**
 * A demo file: `rows` data rows after the header, generated from `seed`.
 *
 * @internal
 */
export interface DemoFile {
  readonly seed: number
  readonly rows: number
}

/** @internal */
export const size = (file: DemoFile): number => header.length + bytesBeforeRow(file.rows)

const bytesBeforeRow = (i: number): number => Math.floor(i / cycle) * cycleLength + prefix[i % cycle]!

/** The row holding data byte `offset` (counted after the header), and where in that row it is. */
const locate = (offset: number): { readonly row: number; readonly within: number } => {
  const full = Math.floor(offset / cycleLength)
  const rest = offset - full * cycleLength
  let lo = 0
  let hi = cycle - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if (prefix[mid]! <= rest) lo = mid
    else hi = mid - 1
  }
  return { row: full * cycle + lo, within: rest - prefix[lo]! }
}

const chunkTarget = 64 * 1024

/** The text of bytes `[from, to)` of a file; the caller keeps `to` within the file. */
const render = (seed: number, from: number, to: number): string => {
  let out = ""
  if (from < header.length) {
    out = header.slice(from, Math.min(to, header.length))
    from = header.length
  }
  if (from >= to) return out
  let { row: i, within } = locate(from - header.length)
  let remaining = to - from
  while (remaining > 0) {
    const piece = row(seed, i).slice(within)
    const taken = piece.length <= remaining ? piece : piece.slice(0, remaining)
    out += taken
    remaining -= taken.length
    within = 0
    i++
  }
  return out
}

/**
 * The bytes `[start, end)` of a file (`end` exclusive, at most its size), in chunks of 64 KiB.
 *
 * @internal
 */
export const stream = (file: DemoFile, start = 0, end = size(file)): Stream.Stream<Uint8Array> =>
  Stream.unfoldChunk(start, (position) => {
    if (position >= end) return Option.none()
    const text = render(file.seed, position, Math.min(end, position + chunkTarget))
    // Every character is ASCII, so one character is one byte.
    return Option.some([Chunk.of(new Uint8Array(Buffer.from(text, "latin1"))), position + text.length] as const)
  })
