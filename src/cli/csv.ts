/**
 * CSV out, for `rows --format csv`: RFC 4180 quoting, one header (the first record's columns), LF line ends.
 *
 * @internal
 */

const needsQuotes = /[",\r\n]|^\s|\s$/

/** @internal */
export const field = (value: string): string => needsQuotes.test(value) ? `"${value.replaceAll("\"", "\"\"")}"` : value

/**
 * Writes records under the columns of the first one. A record without one of them gets an empty field; the
 * columns the header lacks are left out, and `onExtra` is told their names once.
 *
 * @internal
 */
export const writer = (onExtra: (columns: ReadonlyArray<string>) => void) => {
  let columns: ReadonlyArray<string> | undefined
  let known: Set<string> | undefined
  let warned = false
  return (record: Readonly<Record<string, string>>): string => {
    let header = ""
    if (columns === undefined) {
      columns = Object.keys(record)
      known = new Set(columns)
      header = `${columns.map(field).join(",")}\n`
    } else if (!warned) {
      const extra = Object.keys(record).filter((key) => !known!.has(key))
      if (extra.length > 0) {
        warned = true
        onExtra(extra)
      }
    }
    return `${header}${columns.map((column) => field(record[column] ?? "")).join(",")}\n`
  }
}
