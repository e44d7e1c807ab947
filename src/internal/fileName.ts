const maxLength = 200

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g

/**
 * A file name that is safe to create in a directory: no path separator, no `..`, no NUL or control
 * character, no leading dot, at most 200 characters, well-formed Unicode. Whatever a URL says, the result
 * names a file inside the directory it is joined to. An empty result means the URL named no file.
 *
 * @internal
 */
export const safeFileName = (name: string): string => {
  const cleaned = name
    .replace(loneSurrogate, "\uFFFD")
    // Separators of every platform, control characters and the characters Windows refuses in names.

    .replace(/[/\\\u0000-\u001f\u007f<>:"|?*]/g, "_")
    .replace(/\.{2,}/g, "_")
    .replace(/^\./, "_")
    .trim()
  return cleaned.length > maxLength ? cleaned.slice(0, maxLength) : cleaned
}
