import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as nodePath from "node:path"
import * as SafeFile from "../src/internal/taskResults/safeFile.js"
import { tempDirs } from "./fixtures/fileHost.js"

const tempDir = tempDirs("safefile-")

const bytes = (...values: ReadonlyArray<number>) => new Uint8Array(values)

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
