import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import * as SafeFile from "../src/internal/taskResults/safeFile.js"
import { tempDirs } from "./fixtures/fileHost.js"

const tempDir = tempDirs("safefile-")

const bytes = (...values: ReadonlyArray<number>) => new Uint8Array(values)

describe("SafeFile.after", () => {
  const pieces = [bytes(1, 2, 3), bytes(4), bytes(5, 6)]
  it.each([
    [0, [[1, 2, 3], [4], [5, 6]]],
    [1, [[2, 3], [4], [5, 6]]],
    [3, [[4], [5, 6]]],
    [4, [[5, 6]]],
    [5, [[6]]],
    [6, []]
  ])("after %i bytes written", (written, rest) => {
    assert.deepStrictEqual(SafeFile.after(pieces, written).map((piece) => [...piece]), rest)
  })
})

describe("SafeFile.writeAll", () => {
  it.effect("writes every piece in order, more pieces than one writev takes included", () =>
    Effect.gen(function*() {
      const path = nodePath.join(tempDir(), "a.csv")
      const pieces = Array.from({ length: 3000 }, (_, i) => bytes(i % 251, (i * 7) % 251))
      yield* Effect.scoped(Effect.flatMap(SafeFile.openExclusive(path), (file) => file.writeAll(pieces)))
      assert.deepStrictEqual(new Uint8Array(fs.readFileSync(path)), new Uint8Array(Buffer.concat(pieces)))
    }))
})
