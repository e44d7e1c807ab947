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

describe("SafeFile.openFresh", () => {
  it.effect("replaces a file or a link at the name, never writing through the link", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const target = nodePath.join(directory, "target")
      fs.writeFileSync(target, "keep")
      const stale = nodePath.join(directory, "stale.part")
      const linked = nodePath.join(directory, "linked.part")
      fs.writeFileSync(stale, "an earlier run's bytes")
      fs.symlinkSync(target, linked)
      for (const path of [stale, linked]) {
        yield* Effect.scoped(Effect.flatMap(SafeFile.openFresh(path), (file) => file.write(bytes(1, 2))))
        assert.isTrue(fs.lstatSync(path).isFile())
        assert.deepStrictEqual([...fs.readFileSync(path)], [1, 2])
      }
      assert.strictEqual(fs.readFileSync(target, "utf8"), "keep")
    }))
})
