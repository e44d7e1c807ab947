/**
 * Deterministic CSV files of entity rows, rendered in large blocks straight into bytes.
 *
 * Rows come in cycles of {@link cycle}: every field depends only on a row's position in its cycle (and the
 * file's seed), except the first 8 hex digits of the id and the 9 ISIN digits of the row number, which have
 * a fixed width. So one cycle is rendered once per file as a template, and any block of rows is a copy of
 * the template with 18 bytes patched per row: fast enough to serve files faster than a disk, and the byte
 * length of any prefix is known without rendering it (a `Content-Length` for any size, a `Range` that
 * starts at the block holding its first byte). Ids are unique within a file: their first 8 hex digits are a
 * bijection of the row number.
 *
 * @internal
 */
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

/**
 * The columns a generated file can have. `comment` is only present when asked for: quoted values with
 * embedded newlines (LF and CRLF), quotes, commas and non-ASCII text.
 *
 * @internal
 */
export const columns = [
  "entity_id",
  "name",
  "isin",
  "ticker",
  "country",
  "sector",
  "founded",
  "sentiment",
  "comment"
] as const

/** @internal */
export type Column = typeof columns[number]

/**
 * The columns of a generated file unless others are asked for, in this order.
 *
 * @internal
 */
export const defaultColumns: ReadonlyArray<Column> = columns.slice(0, 8)

/** @internal */
export interface LayoutOptions {
  readonly columns: ReadonlyArray<Column>
  readonly lineEnding: "lf" | "crlf"
  readonly bom: boolean
}

/**
 * A rendered cycle of rows with the offsets of its seeded and per-row fields.
 *
 * @internal
 */
export interface Layout {
  /** The BOM (when asked for) and the header line. */
  readonly header: Uint8Array
  /** One cycle of rows with the seeded and per-row fields left to patch. */
  readonly block: Uint8Array
  /** `rowStart[k]`: the offset of row `k` of the cycle in {@link block}; `rowStart[cycle]` is its length. */
  readonly rowStart: Float64Array
  /** Per row of the cycle, the offsets in the block of its id, ISIN digits, ticker and year (-1: no such column). */
  readonly slots: Int32Array
}

/** @internal */
export const cycle = 256

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
const comments = [
  "Merged twice\nrenamed once",
  "Analysts said \"buy\", then \"hold\"",
  "",
  "Zürich office, «Société Générale» desk",
  "plain note",
  "Line one\r\nline two, with a comma",
  "\"Quoted\" at the start",
  "Blank line follows\n\nend"
]

const csvField = (value: string): string => /[",\r\n]/.test(value) ? `"${value.replace(/"/g, "\"\"")}"` : value

const encoder = new TextEncoder()

/** The ISIN letters as digits (A = 10 ... Z = 35), summed by the Luhn rule at their places from the right. */
const countryLuhn = (country: string): number => {
  // Two letters give four digits, at places 12, 11, 10, 9 from the right; even places are doubled.
  const digits = [...country].flatMap((c) => String(c.charCodeAt(0) - 55).split("").map(Number))
  let sum = 0
  for (let j = 0; j < digits.length; j++) {
    const place = 9 + (digits.length - 1 - j)
    sum += place % 2 === 0 ? doubled(digits[j]!) : digits[j]!
  }
  return sum
}

const doubled = (d: number): number => d * 2 > 9 ? d * 2 - 9 : d * 2

const countryOf = (k: number): string => countries[(k * 5) % 16]!
const countrySums = Uint8Array.from({ length: cycle }, (_, k) => countryLuhn(countryOf(k)))

/**
 * Renders the template of one cycle for a layout.
 *
 * @internal
 */
export const layout = (options: LayoutOptions): Layout => {
  const eol = options.lineEnding === "crlf" ? "\r\n" : "\n"
  const headerText = `${options.bom ? "\uFEFF" : ""}${options.columns.join(",")}${eol}`
  const parts: Array<Uint8Array> = []
  const rowStart = new Float64Array(cycle + 1)
  const slots = new Int32Array(cycle * 4).fill(-1)
  let offset = 0
  for (let k = 0; k < cycle; k++) {
    rowStart[k] = offset
    let line = ""
    const slot = (index: number, within: number) => {
      slots[k * 4 + index] = offset + encoder.encode(line).length + within
    }
    options.columns.forEach((column, c) => {
      if (c > 0) line += ","
      switch (column) {
        case "entity_id":
          slot(0, 0)
          line += "00000000-0000-4000-0000-000000000000"
          break
        case "name":
          line += csvField(`${prefixes[k % 16]} ${suffixes[(k * 7 + (k >> 4)) % 16]}`)
          break
        case "isin":
          slot(1, 2)
          line += `${countryOf(k)}0000000000`
          break
        case "ticker":
          slot(2, 0)
          line += "AAAA"
          break
        case "country":
          line += countryOf(k)
          break
        case "sector":
          line += csvField(sectors[(k * 3) % sectors.length]!)
          break
        case "founded":
          slot(3, 0)
          line += "1900"
          break
        case "sentiment":
          line += ((((k * 37) % 201) - 100) / 100).toFixed(2)
          break
        case "comment":
          line += csvField(comments[k % comments.length]!)
          break
      }
    })
    const bytes = encoder.encode(line + eol)
    parts.push(bytes)
    offset += bytes.length
  }
  rowStart[cycle] = offset
  const block = new Uint8Array(offset)
  parts.forEach((bytes, k) => block.set(bytes, rowStart[k]!))
  return { header: encoder.encode(headerText), block, rowStart, slots }
}

/**
 * The size in bytes of a file of `rows` rows.
 *
 * @internal
 */
export const size = (layout: Layout, rows: number): number =>
  layout.header.length + Math.floor(rows / cycle) * layout.block.length + layout.rowStart[rows % cycle]!

/** 32-bit mix (MurmurHash3's finaliser): a bijection of 32-bit integers. */
const mix = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const hexDigits = encoder.encode("0123456789abcdef")

/** The two hex digits of each byte value, as ASCII codes: high digit, low digit. */
const hexPairs = Uint8Array.from({ length: 512 }, (_, j) => hexDigits[j % 2 === 0 ? (j >> 1) >> 4 : (j >> 1) & 15]!)

/** Writes the 8 hex digits of a 32-bit value. */
const writeHex32 = (out: Uint8Array, at: number, value: number) => {
  let j = (value >>> 23) & 0x1fe
  out[at] = hexPairs[j]!
  out[at + 1] = hexPairs[j + 1]!
  j = (value >>> 15) & 0x1fe
  out[at + 2] = hexPairs[j]!
  out[at + 3] = hexPairs[j + 1]!
  j = (value >>> 7) & 0x1fe
  out[at + 4] = hexPairs[j]!
  out[at + 5] = hexPairs[j + 1]!
  j = (value << 1) & 0x1fe
  out[at + 6] = hexPairs[j]!
  out[at + 7] = hexPairs[j + 1]!
}

/** The four ASCII digits of each year from 1900 to 2024. */
const years = encoder.encode(Array.from({ length: 125 }, (_, y) => String(1900 + y)).join(""))

/**
 * The template of one file: the layout's cycle with the fields that depend on the seed and the position in
 * the cycle filled in (the id after its first 8 hex digits, the ticker, the year).
 */
const seeded = (layout: Layout, seed: number): Uint8Array => {
  const out = Uint8Array.from(layout.block)
  for (let k = 0; k < cycle; k++) {
    const b = mix(seed ^ Math.imul(k + 1, 0x85ebca6b))
    const c = mix(b ^ 0xc2b2ae35)
    const d = mix(c ^ 0x27d4eb2f)
    const id = layout.slots[k * 4]!
    if (id >= 0) {
      // xxxxxxxx-bbbb-4bbb-[89ab]ccc-ccccdddddddd: version 4, RFC variant.
      const p = id
      const tail = encoder.encode(
        `${(b >>> 16).toString(16).padStart(4, "0")}-4${(b & 0xfff).toString(16).padStart(3, "0")}-${
          (8 + (c & 3)).toString(16)
        }${((c >>> 16) & 0xfff).toString(16).padStart(3, "0")}-${(c & 0xffff).toString(16).padStart(4, "0")}${
          d.toString(16).padStart(8, "0")
        }`
      )
      out.set(tail, p + 9)
    }
    const ticker = layout.slots[k * 4 + 2]!
    if (ticker >= 0) {
      const p = ticker
      for (let j = 0; j < 4; j++) out[p + j] = 65 + ((d >>> (5 * j)) % 26)
    }
    const founded = layout.slots[k * 4 + 3]!
    if (founded >= 0) out.set(years.subarray(((d >>> 20) % 125) * 4, ((d >>> 20) % 125) * 4 + 4), founded)
  }
  return out
}

/** The last three ISIN digits of each number 0-999, and their Luhn sum (places 0, 1, 2 from the right). */
const lowDigits = new Uint8Array(3000)
const lowSums = new Uint8Array(1000)
for (let n = 0; n < 1000; n++) {
  const [h, t, u] = [Math.floor(n / 100), Math.floor(n / 10) % 10, n % 10]
  lowDigits.set([48 + h, 48 + t, 48 + u], n * 3)
  lowSums[n] = doubled(u) + t + doubled(h)
}

/** The first six ISIN digits of `high` (places 8 to 3 from the right) and their Luhn sum. */
const highDigits = (high: number): { readonly bytes: Uint8Array; readonly sum: number } => {
  const bytes = new Uint8Array(6)
  let sum = 0
  for (let j = 5, n = high; j >= 0; j--, n = Math.floor(n / 10)) {
    const digit = n % 10
    bytes[j] = 48 + digit
    // Byte j sits at place 8 - j from the right of the nine digits; even places are doubled.
    sum += (8 - j) % 2 === 0 ? doubled(digit) : digit
  }
  return { bytes, sum }
}

/** Renders blocks `[first, first + count)` of a file from its template into `out`. */
const renderBlocks = (
  layout: Layout,
  template: Uint8Array,
  seed: number,
  first: number,
  count: number,
  out: Uint8Array
) => {
  const { slots } = layout
  const blockLength = template.length
  // The row number mod 10^9 as high * 1000 + low, counted up row by row: no division per row.
  const n = (first * cycle) % 1_000_000_000
  let low = n % 1000
  let high = (n - low) / 1000
  let highPart = highDigits(high)
  let i = first * cycle
  for (let b = 0; b < count; b++) {
    const base = b * blockLength
    out.set(template, base)
    for (let k = 0; k < cycle; k++, i++) {
      const id = slots[k * 4]!
      if (id >= 0) writeHex32(out, base + id, mix(seed ^ Math.imul(i + 1, 0x9e3779b1)))
      const isin = slots[k * 4 + 1]!
      if (isin >= 0) {
        // Nine digits of the row number, then the Luhn check digit over letters and digits.
        const p = base + isin
        const hb = highPart.bytes
        out[p] = hb[0]!
        out[p + 1] = hb[1]!
        out[p + 2] = hb[2]!
        out[p + 3] = hb[3]!
        out[p + 4] = hb[4]!
        out[p + 5] = hb[5]!
        out[p + 6] = lowDigits[low * 3]!
        out[p + 7] = lowDigits[low * 3 + 1]!
        out[p + 8] = lowDigits[low * 3 + 2]!
        out[p + 9] = checkDigits[countrySums[k]! + highPart.sum + lowSums[low]!]!
      }
      if (++low === 1000) {
        low = 0
        high = high === 999_999 ? 0 : high + 1
        highPart = highDigits(high)
      }
    }
  }
}

/** `checkDigits[sum]`: the ASCII Luhn check digit for a sum of contributions. */
const checkDigits = Uint8Array.from({ length: 256 }, (_, sum) => 48 + (10 - (sum % 10)) % 10)

/** About how many bytes each emitted chunk holds: large writes keep the socket busy at little cost per byte. */
const chunkTarget = 1024 * 1024

/**
 * The bytes `[start, end)` of the file with `rows` rows generated from `seed` (`end` at most its size), in
 * chunks of about 256 KiB.
 *
 * @internal
 */
export const stream = (
  layout: Layout,
  seed: number,
  start: number,
  end: number
): Stream.Stream<Uint8Array> => {
  const headerLength = layout.header.length
  const blockLength = layout.block.length
  const blocksPerChunk = Math.max(1, Math.floor(chunkTarget / blockLength))
  const header = start < headerLength
    ? Stream.succeed(layout.header.subarray(start, Math.min(end, headerLength)))
    : Stream.empty
  const dataStart = Math.max(start, headerLength) - headerLength
  const dataEnd = end - headerLength
  if (dataEnd <= dataStart) return header
  let template: Uint8Array | undefined
  const data = Stream.unfold(Math.floor(dataStart / blockLength), (first) => {
    const from = Math.max(dataStart, first * blockLength)
    if (from >= dataEnd) return Option.none()
    template ??= seeded(layout, seed)
    const count = Math.min(blocksPerChunk, Math.ceil(dataEnd / blockLength) - first)
    // Every byte is written below: no need to zero the memory first.
    const out = Buffer.allocUnsafe(count * blockLength)
    renderBlocks(layout, template, seed, first, count, out)
    const base = first * blockLength
    return Option.some([out.subarray(from - base, Math.min(dataEnd, base + out.length) - base), first + count] as const)
  })
  return Stream.concat(header, data)
}
