/**
 * `DownloadUrl.fileName`: the name `getDownloadUrls` gives each signed URL of a list, whatever the last path
 * segment holds, and the answers that stay a `Decode` error.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as Wire from "../src/internal/wire.js"
import { failureOf, fakeApi, fileUrl, getDownloadUrls, ok } from "./fixtures/fakeApi.js"

const host = "https://files.textreveal.com/exports/task=1"

describe("DownloadUrl.fileName", () => {
  it.effect.each([
    { name: "a plain name", url: `${host}/part-0001.csv?X-Amz-Signature=abc`, fileName: "part-0001.csv" },
    { name: "a percent-encoded name", url: `${host}/r%C3%A9sum%C3%A9%20final.csv`, fileName: "résumé final.csv" },
    { name: "a name with a query and a fragment", url: `${host}/a.csv?next=/b.csv#../c`, fileName: "a.csv" },
    { name: "an empty last segment", url: `${host}/`, fileName: "file-2" },
    { name: "a `.` last segment", url: `${host}/.`, fileName: "file-2" },
    { name: "a `..` last segment", url: `${host}/..`, fileName: "file-2" },
    { name: "an encoded `..` last segment", url: `${host}/%2E%2e`, fileName: "file-2" },
    { name: "no path at all", url: "https://files.textreveal.com", fileName: "file-2" },
    { name: "a name of spaces only", url: `${host}/%20%20%C2%A0`, fileName: "file-2" },
    { name: "an escaped lone surrogate", url: `${host}/%ED%A0%80.csv`, fileName: "\uFFFD\uFFFD\uFFFD.csv" },
    { name: "a byte that is never UTF-8", url: `${host}/%FF`, fileName: "\uFFFD" },
    { name: "a truncated UTF-8 sequence", url: `${host}/caf%C3.csv`, fileName: "caf\uFFFD.csv" },
    { name: "valid and malformed escapes mixed", url: `${host}/%C3%A9%FF%C3%A9.csv`, fileName: "é\uFFFDé.csv" },
    { name: "a `%` that starts no escape", url: `${host}/100%25%zz%2.csv`, fileName: "100%%zz%2.csv" },
    { name: "encoded separators and `..`", url: `${host}/..%2F..%2Fetc%2Fpasswd`, fileName: "____etc_passwd" },
    { name: "an encoded backslash and NUL", url: `${host}/a%5Cb%00c.csv`, fileName: "a_b_c.csv" },
    { name: "a leading dot", url: `${host}/.env`, fileName: "_env" },
    {
      name: "a name over 200 characters",
      url: `${host}/${"a".repeat(300)}.csv`,
      fileName: `${"a".repeat(196)}.csv`
    }
  ])("$name: $fileName", ({ fileName, url }) =>
    Effect.gen(function*() {
      // The URL is second in the list: a name it cannot give is `file-2`.
      const urls = yield* getDownloadUrls(fakeApi(ok(fileUrl("first.csv"), url, fileUrl("third.csv"))))
      assert.deepStrictEqual(urls.map((u) => u.fileName), ["first.csv", fileName, "third.csv"])
      assert.strictEqual(urls[1]?.url, url)
    }))

  it.effect("every URL that names no file gets a name of its own position", () =>
    Effect.gen(function*() {
      const urls = yield* getDownloadUrls(fakeApi(ok(`${host}/`, fileUrl("a.csv"), `${host}/..`, `${host}/%FF`)))
      assert.deepStrictEqual(urls.map((u) => u.fileName), ["file-1", "a.csv", "file-3", "\uFFFD"])
    }))

  it.effect.each([
    { name: "a relative URL", url: "/exports/a.csv" },
    { name: "a non-http scheme", url: "ftp://files.textreveal.com/exports/a.csv" },
    { name: "a javascript: URL", url: "javascript:alert(1)" },
    { name: "a file: URL", url: "file:///etc/passwd" },
    { name: "a string that is no URL", url: "not a url" },
    { name: "an empty string", url: "" }
  ])("$name is a Decode error that says where it is", ({ url }) =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(getDownloadUrls(fakeApi(ok(fileUrl("a.csv"), url))))
      assert.isTrue(Exit.isFailure(exit))
      const error = failureOf(exit)
      assert.strictEqual(error._tag, "ResponseError")
      if (error._tag !== "ResponseError") return
      assert.strictEqual(error.reason, "Decode")
      assert.include(error.description ?? "", "(at [1])")
    }))

  it("the sandbox's encoding of a URL list is the list of URLs", () => {
    const encoded = Schema.encodeSync(Wire.DownloadUrlsBody)([
      { url: `${host}/a.csv`, fileName: "a.csv" },
      { url: `${host}/`, fileName: "file-2" }
    ])
    assert.deepStrictEqual(encoded, [`${host}/a.csv`, `${host}/`])
  })
})
