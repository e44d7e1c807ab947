import { safeFileName } from "../fileName.js"

/** The longest name used on disk, in UTF-8 bytes: room for the temporary prefix and suffix under 255. */
const maxBytes = 200

const encoder = new TextEncoder()

const truncateBytes = (name: string, max: number): string => {
  if (encoder.encode(name).length <= max) return name
  let out = ""
  let bytes = 0
  for (const char of name) {
    const size = encoder.encode(char).length
    if (bytes + size > max) break
    out += char
    bytes += size
  }
  return out
}

/**
 * A file name that stays inside the directory it is joined to, whatever the URL said: separators, `..`,
 * control characters and a leading dot neutralised (again: a `DownloadUrl` may come from anywhere), at most
 * 200 UTF-8 bytes, the extension kept; never empty, `.` or `..`.
 *
 * @internal
 */
export const sanitize = (name: string): string => {
  const safe = safeFileName(name)
  if (safe === "" || safe === "." || safe === "..") return "file"
  if (encoder.encode(safe).length <= maxBytes) return safe
  const dot = safe.lastIndexOf(".")
  const ext = dot > 0 && safe.length - dot <= 16 ? safe.slice(dot) : ""
  return truncateBytes(safe.slice(0, safe.length - ext.length), maxBytes - encoder.encode(ext).length) + ext
}

/**
 * One file of a task: its position in the URL list, the (sanitised) name its URL gives, which occurrence of
 * that name it is (to find it again in a fresh URL list) and the distinct name used on disk.
 *
 * @internal
 */
export interface Slot {
  readonly index: number
  readonly source: string
  readonly occurrence: number
  readonly name: string
}

const withSuffix = (name: string, n: number): string => {
  const dot = name.lastIndexOf(".")
  return dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`
}

/**
 * Distinct names on disk for the files of a task, in URL order: the first `a.csv` keeps its name, the next
 * ones become `a (2).csv`, `a (3).csv`. Names are compared without case, for case-insensitive file systems.
 *
 * @internal
 */
export const assign = (fileNames: ReadonlyArray<string>): ReadonlyArray<Slot> => {
  const used = new Set<string>()
  const occurrences = new Map<string, number>()
  return fileNames.map((fileName, index) => {
    const source = sanitize(fileName)
    const occurrence = occurrences.get(source) ?? 0
    occurrences.set(source, occurrence + 1)
    let name = source
    for (let n = 2; used.has(name.toLowerCase()); n++) name = withSuffix(source, n)
    used.add(name.toLowerCase())
    return { index, source, occurrence, name }
  })
}

/**
 * The temporary name of a file while it is written: hidden, and never equal to a final name (final names
 * never start with a dot).
 *
 * @internal
 */
export const temporary = (name: string): string => `.${name}.part`

/**
 * The manifest's name in the directory; like temporary names, it cannot clash with a file of the task.
 *
 * @internal
 */
export const manifest = ".textreveal-manifest.json"
