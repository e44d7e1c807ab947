/**
 * Properties of the client, checked on generated inputs (fast-check through `it.prop`):
 *
 * - whatever the status, headers and body of an answer, `getDownloadUrls` ends with a success or a typed
 *   failure, never a defect, and no rendering of the result holds the token, however the server echoed it;
 * - whatever the http(s) URLs of a download list, the list decodes, every `DownloadUrl.fileName` names a file
 *   inside the directory it is joined to, and a URL whose last segment gives no name is `file-<position>`;
 *   one item that is not an http(s) URL fails the list with a `Decode` error at its index;
 * - whatever a CSV writer wrote (quoting, line breaks in fields, BOM, CRLF, column order per file),
 *   `TaskResults.rows` reads back exactly the records written, keyed by the header.
 */
import { assert, describe, it } from "@effect/vitest"
import { stringify } from "csv-stringify/sync"
import { Credentials } from "effect-textreveal"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as fc from "effect/FastCheck"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as nodePath from "node:path"
import * as util from "node:util"
import { failureOf, fakeHttp, getDownloadUrls, json, printed, taskId, token } from "./fixtures/fakeApi.js"
import * as FileHost from "./fixtures/fileHost.js"

// ---------------------------------------------------------------------------------------------------------
// (a) any answer: a typed result, and no secret in any rendering of it
// ---------------------------------------------------------------------------------------------------------

/** A token with the characters that escaping changes: quote, backslash, slash, `<&>` and `'`. */
const nastyToken = "tr\"K\\ey/<&>'9f3a"

const tokenLayer = (secret: string) => Layer.orDie(Credentials.layerToken(Redacted.make(secret)))

/** The forms in which a leaked token would show in a rendering: as is, JSON-escaped, `util.inspect`-escaped. */
const leakedForms = (secret: string): ReadonlyArray<string> => [
  ...new Set([secret, JSON.stringify(secret).slice(1, -1), util.inspect(secret).slice(1, -1)])
]

const hex4 = (code: number) => code.toString(16).padStart(4, "0")

/** How a server may echo the token in a body: each escaping of `internal/secrets.ts`, and a few others. */
const echoOf = (secret: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant(secret),
    fc.constant(JSON.stringify(secret).slice(1, -1)),
    fc.constant(JSON.stringify(secret).slice(1, -1).replaceAll("/", "\\/")),
    fc.constant(
      JSON.stringify(secret).slice(1, -1).replaceAll("<", "\\u003c").replaceAll(">", "\\u003e")
        .replaceAll("&", "\\u0026")
    ),
    fc.constant([...secret].map((c) => `\\u${hex4(c.charCodeAt(0))}`).join("")),
    fc.constant([...secret].map((c) => `\\u${hex4(c.charCodeAt(0)).toUpperCase()}`).join("")),
    // Mixed-case and partial `\u` escapes: JSON.parse decodes them into the token itself.
    fc.array(fc.integer({ min: 0, max: 2 }), { minLength: secret.length, maxLength: secret.length }).map((how) =>
      [...secret].map((c, i) =>
        how[i] === 0
          ? JSON.stringify(c).slice(1, -1)
          : `\\u${how[i] === 1 ? hex4(c.charCodeAt(0)) : hex4(c.charCodeAt(0)).toUpperCase()}`
      ).join("")
    ),
    fc.constant(encodeURIComponent(secret)),
    fc.constant(
      secret.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll("\"", "&quot;")
        .replaceAll("'", "&#39;")
    )
  )

/** Text around an echo: anything, JSON-escaped when it sits in a JSON string. */
const filler = fc.string({ maxLength: 20, unit: "grapheme" })

/** A body as bytes: anything a server could send. */
const bodyOf = (secret: string): fc.Arbitrary<Uint8Array<ArrayBuffer>> => {
  const text = (s: fc.Arbitrary<string>) => s.map((t) => new TextEncoder().encode(t))
  const echoed = fc.tuple(filler, echoOf(secret), filler).map(([a, echo, b]) =>
    // The echo as the server wrote it: escaped for a JSON string, or raw (then the JSON may be invalid).
    `${JSON.stringify(a).slice(1, -1)}${echo}${JSON.stringify(b).slice(1, -1)}`
  )
  const depth = fc.integer({ min: 1, max: 5000 })
  return fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((bytes) => new Uint8Array(bytes)),
    text(fc.string({ maxLength: 200, unit: "binary" })),
    text(fc.json({ maxDepth: 4 })),
    // Deep nesting, closed or not, bare or inside a field the client reads.
    text(
      fc.tuple(depth, fc.constantFrom("[", "{\"a\":", "{\"message\":", "{\"errors\":"), fc.boolean()).map(
        ([n, open, closed]) => {
          const close = open === "[" ? "]" : "}"
          return `${open.repeat(n)}${open === "[" ? "1" : "null"}${closed ? close.repeat(n) : ""}`
        }
      )
    ),
    // Huge and odd numbers where strings or small numbers are expected.
    text(fc.constantFrom(
      "[1e999999]",
      "{\"message\":1e400,\"code\":123456789012345678901234567890,\"reason\":-0}",
      "[\"https://files.example.com/a.csv\", 99999999999999999999999]",
      "{\"errors\":[{\"field\":1e308,\"message\":NaN,\"reason\":null}]}",
      "-0",
      "9".repeat(400),
      // Unicode escapes: lone surrogates, NUL, non-characters, in the fields read and in URLs.
      "{\"message\":\"\\ud800\\u0000\\uffff\",\"reason\":\"\\udfff\"}",
      "[\"https://files.example.com/\\ud83d.csv\", \"https://files.example.com/a\\u0000b\\u202e.csv\"]",
      "[\"https:\\/\\/files.example.com\\/x.csv\"]"
    )),
    // The documented error body, with the token echoed in its fields.
    text(
      fc.record({ message: echoed, reason: echoed, field: echoed, code: fc.integer() }).map((f) =>
        `{"message":"${f.message}","code":${f.code},"reason":"${f.reason}","errors":[{"field":"${f.field}","message":"${f.message}","reason":"x"}]}`
      )
    ),
    // OAuth's shape, an HTML page, plain text, a JSON array of strings: the token echoed in each.
    text(echoed.map((e) => `{"error":"invalid_token","error_description":"${e}"}`)),
    text(echoed.map((e) => `<html><body><h1>502 Bad Gateway</h1><p>token=${e}</p><!-- ${e} --></body></html>`)),
    text(echoed),
    text(echoed.map((e) => `["${e}"]`)),
    // Valid answers: signed URL lists.
    text(fc.array(fc.webUrl({ withQueryParameters: true }), { maxLength: 4 }).map((urls) => JSON.stringify(urls)))
  )
}

/** A header name a `Response` accepts: a token of RFC 9110. */
const headerName = fc.oneof(
  fc.constantFrom(
    "retry-after",
    "content-type",
    "content-length",
    "content-encoding",
    "www-authenticate",
    "set-cookie",
    "location",
    "x-request-id"
  ),
  fc.string({ minLength: 1, maxLength: 12, unit: fc.constantFrom(..."abcXYZ019!#$%&'*+-.^_`|~") })
)

const retryAfterJunk = fc.constantFrom(
  "0",
  "1",
  "-1",
  "1.5",
  "1e3",
  "0x10",
  "Infinity",
  "99999999999999999999999",
  " 5 ",
  "Mon, 01 Jan 2024 00:00:00 GMT",
  "Wed, 31 Dec 9999 23:59:59 GMT",
  "Fri, 99 Foo 2024 99:99:99 GMT",
  "Sun, 06 Nov 1994 08:49:37",
  "Monday, 06-Nov-94 08:49:37 GMT",
  ""
)

/** A header value a `Response` accepts: no NUL, CR or LF, bytes up to 0xFF. */
const headerValue = (secret: string) =>
  fc.oneof(
    fc.string({ maxLength: 40, unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)) }),
    retryAfterJunk,
    fc.constantFrom("application/json", "application/json; charset=utf-16", "text/html", "gzip", "br", "identity"),
    fc.constant(`Bearer error="invalid_token", token="${secret}"`),
    fc.constant(secret)
  )

const headersOf = (secret: string) =>
  fc.array(fc.tuple(headerName, headerValue(secret)), { maxLength: 6 }).filter((pairs) => {
    try {
      new Headers(pairs)
      return true
    } catch {
      // A pair `Headers` refuses: not an answer a server could send.
      return false
    }
  })

/** Statuses a `Response` cannot be built with (1xx), or not with a body (204, 205, 304). */
const unconstructible = (status: number) => status < 200 || status === 204 || status === 205 || status === 304

/**
 * An answer with any status: a `Response` when one can be built, otherwise a 200 `Response` that says
 * another status (as a misbehaving server or proxy would), its methods bound to the original.
 */
const responseOf = (
  status: number,
  headers: ReadonlyArray<readonly [string, string]>,
  body: Uint8Array<ArrayBuffer>
): Response => {
  const init = { headers: headers.map(([name, value]) => [name, value] as [string, string]) }
  if (!unconstructible(status)) return new Response(body, { ...init, status })
  const response = new Response(body, { ...init, status: 200 })
  return new Proxy(response, {
    get: (target, key) => {
      if (key === "status") return status
      const value = Reflect.get(target, key, target)
      return typeof value === "function" ? value.bind(target) : value
    }
  })
}

const answer = fc.constantFrom(token, nastyToken).chain((secret) =>
  fc.record({
    secret: fc.constant(secret),
    status: fc.oneof(
      fc.integer({ min: 100, max: 599 }),
      fc.constantFrom(200, 400, 401, 403, 404, 429, 500, 502, 503, 204, 304, 101)
    ),
    headers: headersOf(secret),
    body: bodyOf(secret)
  })
)

const apiErrorTags = [
  "Invalid",
  "Unauthorized",
  "Forbidden",
  "NotFound",
  "TooManyRequests",
  "ServerError",
  "RequestError",
  "ResponseError"
]

// ---------------------------------------------------------------------------------------------------------
// (b) any URL list: safe file names
// ---------------------------------------------------------------------------------------------------------

const segmentChars = fc.constantFrom(
  ...[".", ".", " ", "/", "\\", "%", "a", "b", "-", "_", "~", ":", "*", "?", "#", "<", ">", "|", "\""],
  ...["\u0000", "\u0001", "\u001f", "\u007f", "\u0085", "\u00a0", "\u200b", "\u202e", "\ufeff", "\u2028"],
  ...["é", "日", "😀", "\ud83d", "\ude00"],
  ...[
    "%2e",
    "%2E",
    "%2f",
    "%2F",
    "%5c",
    "%00",
    "%0a",
    "%0d",
    "%20",
    "%7f",
    "%c3%a9",
    "%f0%9f%98%80",
    "%ed%a0%80",
    "%ED%B0%80",
    "%FF",
    "%C3",
    "%80",
    "%E2%82",
    "%C0%AF",
    "%F4%90%80%80",
    "%C2%A0",
    "%EF%BB%BF",
    "%zz"
  ]
)

const segment = fc.oneof(
  fc.constantFrom(
    "..",
    ".",
    "",
    "%2e%2e",
    "%2E%2E%2F",
    "..%2F..%2Fetc%2Fpasswd",
    "%2Fetc%2Fpasswd",
    " .x",
    " . ",
    ".x",
    "%20",
    "%20%C2%A0%09"
  ),
  fc.constantFrom("..\\..\\x", "x.csv", "CON", "a%00b.csv", "%ff", "%", "%2", "%e2%80%ae", "%ED%A0%80.csv"),
  fc.array(segmentChars, { maxLength: 12 }).map((parts) => parts.join("")),
  fc.string({ maxLength: 30, unit: "binary" }),
  // Long names, around the 200-character limit, in ASCII and in characters outside the BMP.
  fc.tuple(fc.integer({ min: 190, max: 260 }), fc.constantFrom("a", "😀", "é"), fc.boolean()).map(([n, c, odd]) =>
    `${odd ? "x" : ""}${c.repeat(n)}.csv`
  ),
  // Very long names, escaped, with a long extension or a malformed escape where a cut may fall.
  fc.tuple(fc.integer({ min: 200, max: 1200 }), fc.constantFrom("a", "%F0%9F%98%80", "%ED%A0%80", "%FF")).map((
    [n, c]
  ) => `${c.repeat(n)}.${"x".repeat(n % 30)}`)
)

const signedUrl = fc.record({
  origin: fc.constantFrom(
    "https://files.example.com/exports",
    "http://127.0.0.1:9000/bucket",
    "HTTPS://Files.Example.com:443",
    "https://files.example.com"
  ),
  segments: fc.array(segment, { maxLength: 4 }),
  trailingSlash: fc.boolean(),
  query: fc.option(fc.constantFrom("X-Amz-Signature=abc", "a=..%2F..", "", "x=%2F"), { nil: undefined }),
  fragment: fc.option(fc.constantFrom("", "..", "%2F"), { nil: undefined })
}).map(({ fragment, origin, query, segments, trailingSlash }) =>
  `${origin}/${segments.join("/")}${trailingSlash ? "/" : ""}${query === undefined ? "" : `?${query}`}${
    fragment === undefined ? "" : `#${fragment}`
  }`
)

/** Items of a URL list that are not http(s) URLs: a broken answer, not an odd name. */
const notHttpUrl = fc.constantFrom(
  "",
  "a.csv",
  "/exports/a.csv",
  "//files.example.com/a.csv",
  "ftp://files.example.com/a.csv",
  "file:///etc/passwd",
  "javascript:alert(1)",
  "data:text/csv,a",
  "https://",
  "http://[::1"
)

/**
 * Whether the last path segment of a URL gives a name: it decodes to something other than spaces (a control
 * character is replaced, not dropped; a malformed escape leaves U+FFFD or `%`).
 */
const namesAFile = (url: string): boolean => {
  const path = new URL(url).pathname
  const last = path.slice(path.lastIndexOf("/") + 1)
  try {
    return decodeURIComponent(last).replace(/[\u0000-\u001f\u007f]/g, "_").trim() !== ""
  } catch {
    // A malformed escape: something is left of it.
    return true
  }
}

const controlChar = /[\u0000-\u001f\u007f]/
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** What makes a name unsafe to create in a directory, or `undefined`. */
const unsafe = (name: string): string | undefined => {
  const directory = nodePath.resolve("/tmp/textreveal-downloads")
  const joined = nodePath.join(directory, name)
  if (name.length === 0) return "empty"
  if (name.includes("/") || name.includes("\\")) return "a path separator"
  if (name.includes("..")) return "`..`"
  if (controlChar.test(name)) return "a control character"
  if (name.startsWith(".")) return "a leading dot"
  if (name.length > 200) return `${name.length} characters`
  if (loneSurrogate.test(name)) return "a lone surrogate (not well-formed Unicode)"
  if (nodePath.dirname(joined) !== directory || nodePath.basename(joined) !== name) return "leaves the directory"
  return undefined
}

// ---------------------------------------------------------------------------------------------------------
// (c) any CSV: rows gives back what was written
// ---------------------------------------------------------------------------------------------------------

const csvChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("a", "b", "Z", "0", " ", "-") },
  { weight: 4, arbitrary: fc.constantFrom(",", "\"", "\r", "\n", "\r\n", "\"\"", ";", "\t", "'", "#") },
  { weight: 2, arbitrary: fc.constantFrom("é", "ß", "日本", "😀", "\u00a0", "\u2028", "\ufeff", "\u0000") },
  { weight: 1, arbitrary: fc.string({ maxLength: 3, unit: "grapheme" }) }
)
const csvText = (minLength: number) => fc.array(csvChar, { minLength, maxLength: 10 }).map((parts) => parts.join(""))

const headerNames = fc.uniqueArray(
  fc.oneof(
    { weight: 8, arbitrary: csvText(1).filter((name) => name.length > 0) },
    { weight: 1, arbitrary: fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty") }
  ),
  { minLength: 1, maxLength: 6 }
)
  // A file that starts with U+FEFF starts with a byte order mark: a first name cannot start with one.
  .filter((names) => names.every((name) => !name.startsWith("\ufeff")))

interface CsvFile {
  readonly order: ReadonlyArray<string>
  readonly records: ReadonlyArray<ReadonlyArray<string>>
  readonly bom: boolean
  readonly crlf: boolean
  readonly quoted: boolean
  readonly quotedEmpty: boolean
  /** Pieces the host sends the file in: splits fall inside fields, line breaks, UTF-8 sequences, the BOM. */
  readonly pieces: number
}

const csvTable = headerNames.chain((names) =>
  fc.record({
    names: fc.constant(names),
    files: fc.array(
      fc.record({
        order: fc.shuffledSubarray(names, { minLength: names.length, maxLength: names.length }),
        records: fc.array(fc.array(csvText(0), { minLength: names.length, maxLength: names.length }), {
          maxLength: 12
        }),
        bom: fc.boolean(),
        crlf: fc.boolean(),
        quoted: fc.boolean(),
        quotedEmpty: fc.boolean(),
        pieces: fc.integer({ min: 1, max: 12 })
      }),
      { minLength: 1, maxLength: 3 }
    )
  })
)

/**
 * The file `csv-stringify` writes: the header in the file's order, each record's fields in that order. A field
 * holding a line break is always quoted (the writer would leave a lone CR bare), and so is an empty field of
 * a one-column file (bare, it would be an empty line, which CSV readers skip).
 */
const writeCsv = (names: ReadonlyArray<string>, file: CsvFile): Uint8Array => {
  const rows = file.records.map((record) => file.order.map((name) => record[names.indexOf(name)]!))
  return new TextEncoder().encode(stringify([file.order as Array<string>, ...rows], {
    bom: file.bom,
    record_delimiter: file.crlf ? "windows" : "unix",
    quoted: file.quoted,
    quoted_empty: file.quotedEmpty || names.length === 1,
    quoted_match: [/[\r\n]/]
  }))
}

/** A record as sorted `[name, value]` pairs: compares records keyed by name, whatever the key order. */
const entriesOf = (row: Readonly<Record<string, string>>) =>
  Object.keys(row).sort().map((key) => [key, Object.getOwnPropertyDescriptor(row, key)?.value] as const)

// ---------------------------------------------------------------------------------------------------------

describe("properties", () => {
  // `it.live`: no time is involved (the fake answers at once), and building the test services for each of
  // hundreds of samples would double the file's run time.
  it.live.prop(
    "any status, headers and body: a typed result, and the token in no rendering of it",
    { answer },
    ({ answer: { body, headers, secret, status } }) =>
      Effect.gen(function*() {
        const api = fakeHttp(() => Effect.succeed(responseOf(status, headers, body)))
        const exit = yield* Effect.exit(
          getDownloadUrls(api, { retry: false, transientRetry: false }, tokenLayer(secret))
        )
        const where = `status ${status}, headers ${JSON.stringify(headers)}, body ${
          JSON.stringify(new TextDecoder().decode(body).slice(0, 300))
        }`
        if (Exit.isFailure(exit)) {
          assert.isFalse(Cause.isDie(exit.cause), `a defect for ${where}:\n${Cause.pretty(exit.cause)}`)
          assert.isFalse(Cause.isInterrupted(exit.cause), `interrupted for ${where}`)
          const error = Cause.squash(exit.cause) as { readonly _tag?: string }
          assert.include(apiErrorTags, error._tag, `an untyped failure for ${where}`)
        }
        // A success holds what the server listed: only a token the server put in a URL may show there.
        const listed = Exit.isSuccess(exit) && exit.value.some((url) => url.url.includes(secret))
        if (!listed) {
          for (const text of printed(exit)) {
            for (const form of leakedForms(secret)) {
              assert.notInclude(text, form, `a rendering of the result holds the token, for ${where}`)
            }
          }
        }
      }),
    // About 10 ms a sample here: 100 samples take about a second alone; the limit is for a machine busy with
    // other work, which stretches that tenfold or more.
    { fastCheck: { numRuns: 100 }, timeout: 45_000 }
  )

  it.live.prop(
    "any URL list: every fileName is a safe name inside the directory",
    {
      urls: fc.array(signedUrl, { minLength: 1, maxLength: 4 }),
      broken: fc.option(fc.tuple(notHttpUrl, fc.nat(4)), { nil: undefined, freq: 5 })
    },
    ({ broken, urls: httpUrls }) =>
      Effect.gen(function*() {
        const at = broken === undefined ? -1 : Math.min(broken[1], httpUrls.length)
        const urls = broken === undefined ? httpUrls : [...httpUrls.slice(0, at), broken[0], ...httpUrls.slice(at)]
        const api = fakeHttp(() => Effect.succeed(json(200, urls)))
        const exit = yield* Effect.exit(getDownloadUrls(api, { retry: false, transientRetry: false }))
        const where = JSON.stringify(urls)
        if (broken !== undefined) {
          // An item that is not an http(s) URL fails the whole answer, with a typed decode error at its index.
          const error = failureOf(exit)
          assert.strictEqual(error._tag, "ResponseError", where)
          if (error._tag !== "ResponseError") return
          assert.strictEqual(error.reason, "Decode", where)
          assert.include(error.description, `(at [${at}])`, where)
          return
        }
        if (Exit.isFailure(exit)) return assert.fail(`${where} failed:\n${Cause.pretty(exit.cause)}`)
        assert.strictEqual(exit.value.length, urls.length)
        exit.value.forEach((url, i) => {
          const problem = unsafe(url.fileName)
          const of = `fileName ${JSON.stringify(url.fileName)} of ${JSON.stringify(urls[i])}`
          assert.isUndefined(problem, `${of} has ${problem}`)
          // The generated segments never spell `file-<n>` themselves.
          assert.strictEqual(url.fileName === `file-${i + 1}`, !namesAFile(urls[i]!), `${of} at position ${i + 1}`)
        })
      }),
    { fastCheck: { numRuns: 100 }, timeout: 45_000 }
  )

  it.live.prop(
    "any CSV a reference writer wrote: rows gives back exactly its records, keyed by header",
    { table: csvTable },
    ({ table: { files, names } }) =>
      Effect.gen(function*() {
        const hosted = Object.fromEntries(files.map((file, i) => [`f${i}.csv`, { body: writeCsv(names, file) }]))
        const host = yield* FileHost.fileHost({
          files: hosted,
          plan: (key) => ({ _tag: "Slow", pieces: files[Number(key.slice(1, -4))]!.pieces, every: 0 })
        })
        const { client } = FileHost.fakeClient({ host, listing: FileHost.listOf(...Object.keys(hosted)) })
        const rows = yield* FileHost.withTaskResults(
          client,
          (results) => Effect.exit(Stream.runCollect(results.rows(taskId)))
        )
        const written = files.flatMap((file) =>
          file.records.map((record) => entriesOf(Object.fromEntries(names.map((name, i) => [name, record[i]!]))))
        )
        const where = `files ${JSON.stringify(Object.values(hosted).map((h) => new TextDecoder().decode(h.body)))}`
        if (Exit.isFailure(rows)) return assert.fail(`rows failed for ${where}:\n${Cause.pretty(rows.cause)}`)
        assert.deepStrictEqual(Chunk.toReadonlyArray(rows.value).map(entriesOf), written, where)
      }).pipe(Effect.scoped),
    // A file host per sample (about 100 ms each here): 10 samples of up to 3 files of up to 12 pieces each.
    { fastCheck: { numRuns: 10 }, timeout: 45_000 }
  )
})
