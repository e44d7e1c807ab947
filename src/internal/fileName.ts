const maxLength = 200

/** The longest extension kept when a long name is cut. */
const maxExtension = 16

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/** Cuts a name to `maxLength` UTF-16 units between whole characters, keeping a short extension. */
const cut = (name: string): string => {
  if (name.length <= maxLength) return name
  const dot = name.lastIndexOf(".")
  const extension = dot > 0 && name.length - dot <= maxExtension ? name.slice(dot) : ""
  let head = ""
  for (const char of name.slice(0, name.length - extension.length)) {
    if (head.length + char.length > maxLength - extension.length) break
    head += char
  }
  return head + extension
}

/**
 * A file name that is safe to create in a directory: no path separator, no `..`, no NUL or control
 * character, no leading dot, at most 200 UTF-16 units of well-formed Unicode (a long name is cut between
 * characters, keeping its extension). Whatever a URL says, the result names a file inside the directory it
 * is joined to. An empty result means nothing of the name is left (it was empty or only spaces): the caller
 * names the file otherwise.
 *
 * @internal
 */
export const safeFileName = (name: string): string =>
  cut(
    name
      .replace(loneSurrogate, "\uFFFD")
      // Separators of every platform, control characters and the characters Windows refuses in names.

      .replace(/[/\\\u0000-\u001f\u007f<>:"|?*]/g, "_")
      .replace(/\.{2,}/g, "_")
      .trim()
      .replace(/^\./, "_")
  )
