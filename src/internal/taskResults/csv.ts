import { CsvError, Parser } from "csv-parse"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import { RowError } from "../../TaskResultsError.js"

/** The largest record read, in characters: an unclosed quote must not swallow the rest of a huge file. */
const maxRecordChars = 16 * 1024 * 1024

/**
 * Turns a record, keyed by the header's names, into the value emitted, or says what is wrong with it (the
 * message names the field at fault).
 *
 * @internal
 */
export type Decode<A> = (row: Readonly<Record<string, string>>) => Either.Either<A, string>

/** Line feeds in the fields of a record: each one moves the next record a line further. */
const lineFeedsIn = (record: ReadonlyArray<string>): number => {
  let n = 0
  for (const field of record) {
    for (let i = field.indexOf("\n"); i !== -1; i = field.indexOf("\n", i + 1)) n++
  }
  return n
}

const describeCsvError = (error: CsvError, header: ReadonlyArray<string> | undefined): string => {
  const column = (error as unknown as { readonly column?: unknown }).column
  const field = typeof column === "number" && header?.[column] !== undefined ? ` in field "${header[column]}"` : ""
  switch (error.code) {
    case "CSV_QUOTE_NOT_CLOSED":
      return "a quoted field is not closed before the end of the file"
    case "INVALID_OPENING_QUOTE":
      return `a quote inside an unquoted field${field}`
    case "CSV_INVALID_CLOSING_QUOTE":
      return `a character after the closing quote${field}`
    case "CSV_MAX_RECORD_SIZE":
      return `a record longer than ${maxRecordChars} characters`
    default:
      return error.message.replace(/ (at|on) line \d+/g, "")
  }
}

/**
 * Parses the bytes of one CSV file into records keyed by its header (line 1 names the columns), with
 * `csv-parse`: quoted fields with commas, quotes and line breaks, `\r\n`, a UTF-8 BOM, empty lines skipped.
 * Lines are counted as line feeds (`\n`, `\r\n`), between records and inside quoted fields.
 * A record whose width differs from the header's, or that `decode` refuses, is a `RowError` with the line
 * where it starts, or skipped with `onInvalid: "skip"`. Malformed CSV (an unclosed quote, ...) always
 * fails: the parser cannot go on after it.
 *
 * @internal
 */
export const parse =
  <A>(fileName: string, decode: Decode<A> | undefined, onInvalid: "fail" | "skip") =>
  <E, R>(bytes: Stream.Stream<Uint8Array, E, R>): Stream.Stream<A, E | RowError, R> =>
    Stream.suspend(() => {
      let header: ReadonlyArray<string> | undefined
      let hasProto = false
      let out: Array<A> = []
      let failure: RowError | undefined
      /** The line where the next record starts. */
      let nextLine = 1

      const invalid = (line: number, message: string) => {
        if (onInvalid === "fail" && failure === undefined) failure = new RowError({ fileName, line, message })
      }

      const toRow = (record: ReadonlyArray<string>): Record<string, string> => {
        const row: Record<string, string> = {}
        const names = header!
        if (hasProto) {
          for (let i = 0; i < names.length; i++) {
            Object.defineProperty(row, names[i]!, {
              value: record[i],
              enumerable: true,
              writable: true,
              configurable: true
            })
          }
        } else {
          for (let i = 0; i < names.length; i++) row[names[i]!] = record[i]!
        }
        return row
      }

      const onRecord = (record: Array<string>) => {
        const line = nextLine
        nextLine += 1 + lineFeedsIn(record)
        // An empty line: `csv-parse` is asked to keep them (as one empty field) so that lines can be counted.
        // In a file of one column it is a record whose field is empty (RFC 4180), as `""` is.
        if (record.length === 1 && record[0] === "" && header?.length !== 1) return
        if (header === undefined) {
          const seen = new Set<string>()
          for (const name of record) {
            if (seen.has(name)) failure = new RowError({ fileName, line, message: `the header names "${name}" twice` })
            seen.add(name)
          }
          header = record
          hasProto = seen.has("__proto__")
          return
        }
        if (record.length !== header.length) {
          return invalid(line, `expected ${header.length} fields (${header.join(", ")}), found ${record.length}`)
        }
        const row = toRow(record)
        if (decode === undefined) {
          out.push(row as A)
          return
        }
        const decoded = decode(row)
        if (Either.isRight(decoded)) out.push(decoded.right)
        else invalid(line, decoded.left)
      }

      const parser = new Parser({
        bom: true,
        relax_column_count: true,
        max_record_size: maxRecordChars
      })
      // Errors are read from `errored` right after each write; this only keeps the event from being unhandled.
      parser.on("error", () => {})

      /** The records parsed so far; a parser error becomes the `RowError` of the record it is in. */
      const collect = (): Chunk.Chunk<A> => {
        let record: Array<string> | null
        while (failure === undefined && (record = parser.read()) !== null) onRecord(record)
        const error = parser.errored
        if (failure === undefined && error !== null) {
          const line = nextLine
          failure = new RowError({
            fileName,
            line,
            message: error instanceof CsvError ? describeCsvError(error, header) : error.message
          })
        }
        const chunk = Chunk.unsafeFromArray(out)
        out = []
        return chunk
      }

      // `csv-parse`'s transform parses synchronously inside `write` and `end`: each write's records wait in its
      // readable buffer and are read right after it (reading them lets the next write through at once).
      const write = (buffer: Uint8Array): Chunk.Chunk<A> => {
        parser.write(buffer)
        return collect()
      }
      const end = (): Chunk.Chunk<A> => {
        if (failure !== undefined) return Chunk.empty()
        parser.end()
        return collect()
      }

      // The records before a failure are emitted, then the failure; no byte is read after it.
      return bytes.pipe(
        Stream.map(write),
        Stream.takeUntil(() => failure !== undefined),
        Stream.concat(Stream.sync(end)),
        Stream.flattenChunks,
        Stream.concat(Stream.suspend(() => failure === undefined ? Stream.empty : Stream.fail(failure))),
        Stream.ensuring(Effect.sync(() => parser.destroy()))
      )
    })
