import * as NodeContext from "@effect/platform-node/NodeContext"
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as fsp from "node:fs/promises"
import * as os from "node:os"
import * as nodePath from "node:path"
import { afterAll, vi } from "vitest"
import * as Manifest from "../src/internal/taskResults/manifest.js"
import * as SafeFile from "../src/internal/taskResults/safeFile.js"

const made: Array<string> = []
const tempDir = () => {
  const directory = fs.mkdtempSync(nodePath.join(os.tmpdir(), "manifest-"))
  made.push(directory)
  return directory
}
afterAll(() => {
  for (const directory of made) fs.rmSync(directory, { recursive: true, force: true })
})

const snapshotName = ".textreveal-manifest.json"
const journalName = ".textreveal-manifest.journal"
const temporaryName = ".textreveal-manifest.json.tmp"

const listing = (directory: string) => fs.readdirSync(directory).sort()

const complete = (name: string, n = 1): Manifest.Entry => ({
  name,
  source: name,
  state: "complete",
  etag: `"v${n}"`,
  bytes: 100 * n,
  sha256: "ab".repeat(32)
})
const partial = (name: string, n = 1): Manifest.Entry => ({
  name,
  source: name,
  state: "partial",
  etag: `"v${n}"`,
  size: 100 * n
})

/** The journal as the library writes it: one JSON object per line. */
const lines = (...entries: ReadonlyArray<Manifest.Entry>) =>
  entries.map((entry) => `${JSON.stringify(entry)}\n`).join("")

const writeSnapshot = (directory: string, entries: ReadonlyArray<Manifest.Entry>) =>
  fs.writeFileSync(nodePath.join(directory, snapshotName), JSON.stringify({ version: 1, files: entries }))

const readSnapshot = (directory: string): { version: number; files: Array<Manifest.Entry> } =>
  JSON.parse(fs.readFileSync(nodePath.join(directory, snapshotName), "utf8"))

/** A file outside the directory that links point to: it must never be read nor written through them. */
const victim = () => {
  const file = nodePath.join(tempDir(), "victim.json")
  const bytes = JSON.stringify({ version: 1, files: [complete("planted.csv")] })
  fs.writeFileSync(file, bytes)
  return { file, unchanged: () => fs.readFileSync(file, "utf8") === bytes }
}

/** Runs `effect` with the platform, capturing the messages of the warnings it logs. */
const withWarnings = <A, E>(effect: Effect.Effect<A, E, FileSystem.FileSystem | Path.Path>) =>
  Effect.gen(function*() {
    const warnings: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      if (logLevel._tag === "Warning") warnings.push(Array.isArray(message) ? message.join(" ") : String(message))
    })
    const result = yield* effect.pipe(
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Effect.provide(NodeContext.layer)
    )
    return { result, warnings }
  })

const loadWith = (directory: string, wrap: (fs: FileSystem.FileSystem) => FileSystem.FileSystem = (fs) => fs) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    return yield* Manifest.load(wrap(fs), path, directory)
  })

const load = (directory: string) => withWarnings(loadWith(directory))

describe("Manifest", () => {
  it.effect("keeps what was set across a compaction and a new load", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const { result: first, warnings } = yield* load(directory)
      assert.deepStrictEqual(warnings, [])
      assert.strictEqual(first.get("a.csv"), undefined)
      yield* first.set(partial("a.csv"))
      yield* first.set(complete("b.csv"))
      assert.deepStrictEqual(first.get("a.csv"), partial("a.csv"))
      yield* first.compact

      const { result: second } = yield* load(directory)
      assert.deepStrictEqual(second.get("a.csv"), partial("a.csv"))
      assert.deepStrictEqual(second.get("b.csv"), complete("b.csv"))
      assert.strictEqual(second.get("c.csv"), undefined)
      yield* second.compact
    }))

  it.effect("appends one line per set to the journal, and compaction leaves one snapshot and no journal", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const { result: manifest } = yield* load(directory)
      yield* manifest.set(partial("a.csv"))
      yield* manifest.set(complete("a.csv"))
      assert.deepStrictEqual(listing(directory), [journalName])
      assert.strictEqual(
        fs.readFileSync(nodePath.join(directory, journalName), "utf8"),
        lines(partial("a.csv"), complete("a.csv"))
      )

      yield* manifest.compact
      assert.deepStrictEqual(listing(directory), [snapshotName])
      assert.deepStrictEqual(readSnapshot(directory), { version: 1, files: [complete("a.csv")] })

      // A set after a compaction starts a new journal.
      yield* manifest.set(complete("b.csv"))
      assert.deepStrictEqual(listing(directory), [journalName, snapshotName])
      yield* manifest.compact
      assert.deepStrictEqual(listing(directory), [snapshotName])
      assert.deepStrictEqual(readSnapshot(directory).files, [complete("a.csv"), complete("b.csv")])
    }))

  it.effect("replays the journal over the snapshot in order: a later line wins", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      writeSnapshot(directory, [complete("a.csv", 1), complete("b.csv", 1)])
      fs.writeFileSync(
        nodePath.join(directory, journalName),
        lines(partial("a.csv", 2), complete("c.csv", 1), complete("a.csv", 3), partial("b.csv", 2))
      )
      const { result: manifest, warnings } = yield* load(directory)
      assert.deepStrictEqual(warnings, [])
      assert.deepStrictEqual(manifest.get("a.csv"), complete("a.csv", 3))
      assert.deepStrictEqual(manifest.get("b.csv"), partial("b.csv", 2))
      assert.deepStrictEqual(manifest.get("c.csv"), complete("c.csv", 1))
      // A journal left by a run that did not end is folded into the snapshot at once.
      assert.deepStrictEqual(listing(directory), [snapshotName])
      assert.deepStrictEqual(readSnapshot(directory).files, [
        complete("a.csv", 3),
        partial("b.csv", 2),
        complete("c.csv", 1)
      ])
    }))

  it.effect("ignores a last line cut short, and appends after it cleanly", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const cut = lines(complete("b.csv")).slice(0, 30)
      fs.writeFileSync(nodePath.join(directory, journalName), lines(complete("a.csv")) + cut)
      const { result: first, warnings } = yield* load(directory)
      assert.deepStrictEqual(warnings, [])
      assert.deepStrictEqual(first.get("a.csv"), complete("a.csv"))
      assert.strictEqual(first.get("b.csv"), undefined)

      // The next lines are whole lines of their own, whatever the process that died left.
      yield* first.set(complete("c.csv"))
      assert.strictEqual(fs.readFileSync(nodePath.join(directory, journalName), "utf8"), lines(complete("c.csv")))
      const { result: second, warnings: later } = yield* load(directory)
      assert.deepStrictEqual(later, [])
      assert.deepStrictEqual(second.get("a.csv"), complete("a.csv"))
      assert.deepStrictEqual(second.get("c.csv"), complete("c.csv"))
      yield* first.compact
    }))

  it.effect("a corrupt snapshot: an empty manifest and one warning, then a clean snapshot", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      fs.writeFileSync(nodePath.join(directory, snapshotName), "{\"version\":1,\"files\":[{\"name\":")
      const { result: manifest, warnings } = yield* load(directory)
      assert.deepStrictEqual(warnings, ["TaskResults: ignoring an unreadable manifest"])
      assert.strictEqual(manifest.get("a.csv"), undefined)
      yield* manifest.set(complete("a.csv"))
      yield* manifest.compact
      assert.deepStrictEqual(readSnapshot(directory).files, [complete("a.csv")])
    }))

  it.effect("a snapshot of another version or shape, or not UTF-8: an empty manifest and one warning", () =>
    Effect.gen(function*() {
      for (
        const bytes of [
          JSON.stringify({ version: 2, files: [complete("a.csv")] }),
          JSON.stringify({ version: 1, files: [{ name: "a.csv" }] }),
          // Valid JSON but for one byte that is not UTF-8, in a name.
          Buffer.concat([
            Buffer.from("{\"version\":1,\"files\":[{\"name\":\"a.csv"),
            Buffer.from([0xff]),
            Buffer.from("\",\"source\":\"a.csv\",\"state\":\"complete\"}]}")
          ])
        ]
      ) {
        const directory = tempDir()
        fs.writeFileSync(nodePath.join(directory, snapshotName), bytes)
        const { result: manifest, warnings } = yield* load(directory)
        assert.deepStrictEqual(warnings, ["TaskResults: ignoring an unreadable manifest"])
        assert.strictEqual(manifest.get("a.csv"), undefined)
      }
    }))

  it.effect("a corrupt journal line before the last: an empty manifest and one warning, the journal folded away", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      writeSnapshot(directory, [complete("a.csv")])
      fs.writeFileSync(
        nodePath.join(directory, journalName),
        `${lines(complete("b.csv"))}{"name":"c.csv"}\n${lines(complete("d.csv"))}`
      )
      const { result: manifest, warnings } = yield* load(directory)
      assert.deepStrictEqual(warnings, ["TaskResults: ignoring an unreadable manifest"])
      for (const name of ["a.csv", "b.csv", "c.csv", "d.csv"]) assert.strictEqual(manifest.get(name), undefined)
      assert.deepStrictEqual(listing(directory), [snapshotName])
      assert.deepStrictEqual(readSnapshot(directory).files, [])
    }))

  it.effect("bounds what it reads: a snapshot over 16 MiB, a journal line over 64 KiB", () =>
    Effect.gen(function*() {
      const large = tempDir()
      const entries = JSON.stringify({ version: 1, files: [complete("a.csv")] })
      // Valid JSON, only too large.
      fs.writeFileSync(nodePath.join(large, snapshotName), entries + " ".repeat(16 * 1024 * 1024))
      const { result: fromLarge, warnings } = yield* load(large)
      assert.deepStrictEqual(warnings, ["TaskResults: ignoring an unreadable manifest"])
      assert.strictEqual(fromLarge.get("a.csv"), undefined)

      const longLine = tempDir()
      const long = { ...complete("a.csv"), etag: `"${"x".repeat(64 * 1024)}"` }
      fs.writeFileSync(nodePath.join(longLine, journalName), lines(long))
      const { result: fromLong, warnings: longWarnings } = yield* load(longLine)
      assert.deepStrictEqual(longWarnings, ["TaskResults: ignoring an unreadable manifest"])
      assert.strictEqual(fromLong.get("a.csv"), undefined)

      // Such an entry is kept for the run, never written as a line a reader would refuse.
      yield* fromLong.set(long)
      assert.deepStrictEqual(fromLong.get("a.csv"), long)
      assert.isFalse(fs.existsSync(nodePath.join(longLine, journalName)))
    }))

  it.effect("concurrent sets append whole lines, in the order the entries changed in memory", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const { result: manifest } = yield* load(directory)
      const sets = Array.from({ length: 200 }, (_, i) => complete(`file-${i % 10}.csv`, i))
      yield* Effect.forEach(sets, (entry) => manifest.set(entry), { concurrency: "unbounded" })
      const written = fs.readFileSync(nodePath.join(directory, journalName), "utf8").split("\n")
      assert.strictEqual(written.pop(), "")
      assert.strictEqual(written.length, 200)
      assert.sameDeepMembers(written.map((line) => JSON.parse(line)), sets)

      const { result: replayed } = yield* load(directory)
      for (let i = 0; i < 10; i++) {
        assert.deepStrictEqual(replayed.get(`file-${i}.csv`), manifest.get(`file-${i}.csv`))
      }
      yield* manifest.compact
    }))

  it.effect("a failed append fails every set whose line it held", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const target = victim()
      const { result: manifest } = yield* load(directory)
      fs.symlinkSync(target.file, nodePath.join(directory, journalName))
      const results = yield* Effect.forEach(
        Array.from({ length: 10 }, (_, i) => complete(`file-${i}.csv`)),
        (entry) => Effect.either(manifest.set(entry)),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(results.map((result) => result._tag), Array.from({ length: 10 }, () => "Left"))
      assert.isTrue(target.unchanged())
      yield* manifest.compact
      assert.strictEqual(readSnapshot(directory).files.length, 10)
    }))

  it.effect("make: compacts when its scope closes", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      yield* withWarnings(Effect.scoped(Effect.gen(function*() {
        const manifest = yield* Manifest.make(yield* FileSystem.FileSystem, yield* Path.Path, directory)
        yield* manifest.set(complete("a.csv"))
        assert.deepStrictEqual(listing(directory), [journalName])
      })))
      assert.deepStrictEqual(listing(directory), [snapshotName])
      assert.deepStrictEqual(readSnapshot(directory).files, [complete("a.csv")])
    }))

  it.effect("linear: 5000 sets append 5000 lines and nothing else, and the snapshot is written once, by the compaction", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      let renames = 0
      const { result: manifest } = yield* withWarnings(loadWith(directory, (fs) => ({
        ...fs,
        rename: (from, to) => Effect.zipRight(Effect.sync(() => renames++), fs.rename(from, to))
      })))
      // Every write of the manifest goes through a `FileHandle`: count them and their bytes.
      const probe = yield* Effect.promise(() => fsp.open(nodePath.join(directory, "probe"), "w"))
      const write = vi.spyOn(Object.getPrototypeOf(probe), "write")
      yield* Effect.promise(() => probe.close())
      fs.rmSync(nodePath.join(directory, "probe"))
      const written = () =>
        write.mock.calls.reduce((sum, call) => sum + (typeof call[2] === "number" ? call[2] : NaN), 0)

      const entries = Array.from({ length: 5000 }, (_, i) => complete(`file-${String(i).padStart(5, "0")}.csv`))
      yield* Effect.ensuring(
        Effect.gen(function*() {
          yield* Effect.forEach(entries, (entry) => manifest.set(entry), { concurrency: 4 })
          const journal = fs.statSync(nodePath.join(directory, journalName)).size
          // One write per line at most: lines set while a write is under way go out together in the next.
          const appends = write.mock.calls.length
          assert.isAtMost(appends, 5000)
          assert.strictEqual(written(), journal)
          assert.strictEqual(journal, Buffer.byteLength(lines(...entries)))
          assert.deepStrictEqual(listing(directory), [journalName])
          assert.strictEqual(renames, 0)

          yield* manifest.compact
          const snapshot = fs.statSync(nodePath.join(directory, snapshotName)).size
          assert.strictEqual(write.mock.calls.length, appends + 1)
          assert.strictEqual(written(), journal + snapshot)
          assert.strictEqual(renames, 1)
          assert.deepStrictEqual(listing(directory), [snapshotName])
          assert.strictEqual(readSnapshot(directory).files.length, 5000)
        }),
        Effect.sync(() => write.mockRestore())
      )
    }))

  describe("links planted at its names are never followed", () => {
    it.effect("at the snapshot: removed with a warning, not read, replaced by the compaction", () =>
      Effect.gen(function*() {
        const directory = tempDir()
        const target = victim()
        fs.symlinkSync(target.file, nodePath.join(directory, snapshotName))
        const { result: manifest, warnings } = yield* load(directory)
        assert.deepStrictEqual(warnings, ["TaskResults: removed a link or special file at a manifest's name"])
        assert.strictEqual(manifest.get("planted.csv"), undefined)
        assert.deepStrictEqual(listing(directory), [])

        // Planted again before the compaction: the rename replaces the link itself.
        fs.symlinkSync(target.file, nodePath.join(directory, snapshotName))
        yield* manifest.set(complete("a.csv"))
        yield* manifest.compact
        assert.isTrue(fs.lstatSync(nodePath.join(directory, snapshotName)).isFile())
        assert.deepStrictEqual(readSnapshot(directory).files, [complete("a.csv")])
        assert.isTrue(target.unchanged())
      }))

    it.effect("at the journal: removed with a warning, not replayed; planted after loading, the set fails", () =>
      Effect.gen(function*() {
        const directory = tempDir()
        const target = victim()
        const journal = nodePath.join(directory, journalName)
        fs.writeFileSync(target.file, lines(complete("planted.csv")))
        const bytes = fs.readFileSync(target.file)
        fs.symlinkSync(target.file, journal)
        const { result: manifest, warnings } = yield* load(directory)
        assert.deepStrictEqual(warnings, ["TaskResults: removed a link or special file at a manifest's name"])
        assert.strictEqual(manifest.get("planted.csv"), undefined)
        assert.isFalse(fs.existsSync(journal))

        fs.symlinkSync(target.file, journal)
        const error = yield* Effect.flip(manifest.set(complete("a.csv")))
        assert.strictEqual(error._tag, "SystemError")
        assert.strictEqual(error._tag === "SystemError" ? error.reason : undefined, "BadResource")
        assert.deepStrictEqual(fs.readFileSync(target.file), bytes)

        // The compaction removes the link, not its target.
        yield* manifest.compact
        assert.deepStrictEqual(listing(directory), [snapshotName])
        assert.deepStrictEqual(fs.readFileSync(target.file), bytes)
      }))

    it.effect("at the temporary name: removed when loading, and again before the snapshot is created", () =>
      Effect.gen(function*() {
        const directory = tempDir()
        const target = victim()
        const temporary = nodePath.join(directory, temporaryName)
        fs.symlinkSync(target.file, temporary)
        const { result: manifest, warnings } = yield* load(directory)
        assert.deepStrictEqual(warnings, ["TaskResults: removed a link or special file at a manifest's name"])
        assert.deepStrictEqual(listing(directory), [])

        fs.symlinkSync(target.file, temporary)
        yield* manifest.set(complete("a.csv"))
        yield* manifest.compact
        assert.deepStrictEqual(listing(directory), [snapshotName])
        assert.deepStrictEqual(readSnapshot(directory).files, [complete("a.csv")])
        assert.isTrue(target.unchanged())
      }))

    it.effect("a directory at the snapshot's name: removed when empty, with a warning", () =>
      Effect.gen(function*() {
        const directory = tempDir()
        fs.mkdirSync(nodePath.join(directory, snapshotName))
        const { warnings } = yield* load(directory)
        assert.deepStrictEqual(warnings, ["TaskResults: removed a link or special file at a manifest's name"])
        assert.deepStrictEqual(listing(directory), [])
      }))
  })
})

describe("SafeFile", () => {
  /** The reason of the `SystemError` an effect fails with. */
  const reasonOf = <A>(effect: Effect.Effect<A, PlatformError.PlatformError, Scope.Scope>) =>
    Effect.map(
      Effect.flip(Effect.scoped(effect)),
      (error) => error._tag === "SystemError" ? error.reason : error._tag
    )

  it.effect("lstatKind tells a file, nothing, a link and a directory apart, without following the link", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      fs.writeFileSync(nodePath.join(directory, "file"), "x")
      fs.symlinkSync(victim().file, nodePath.join(directory, "link"))
      fs.mkdirSync(nodePath.join(directory, "dir"))
      const kinds = yield* Effect.forEach(
        ["file", "missing", "link", "dir"],
        (name) => SafeFile.lstatKind(nodePath.join(directory, name))
      )
      assert.deepStrictEqual(kinds, ["file", "missing", "other", "other"])
    }))

  it.effect("no open follows a link: append and read refuse it, exclusive finds something there", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const target = victim()
      const link = nodePath.join(directory, "link")
      fs.symlinkSync(target.file, link)
      const reasons = [
        yield* reasonOf(Effect.flatMap(SafeFile.openAppend(link), (file) => file.write(Buffer.from("!")))),
        yield* reasonOf(SafeFile.openExclusive(link)),
        yield* reasonOf(SafeFile.readUpTo(link, 100))
      ]
      assert.deepStrictEqual(reasons, ["BadResource", "AlreadyExists", "BadResource"])
      assert.isTrue(target.unchanged())
      assert.isTrue(fs.lstatSync(link).isSymbolicLink())
    }))

  it.effect("a FIFO at the name is refused at once, not waited on", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const fifo = nodePath.join(directory, "fifo")
      if (spawnSync("mkfifo", [fifo]).status !== 0) return
      const reasons = [
        yield* reasonOf(SafeFile.openAppend(fifo)),
        yield* reasonOf(SafeFile.readUpTo(fifo, 100))
      ]
      assert.deepStrictEqual(reasons, ["BadResource", "BadResource"])
      assert.isTrue(yield* SafeFile.removeIfNotRegular(fifo))
      assert.deepStrictEqual(listing(directory), [])
    }))

  it.effect("openAppend creates or appends, openExclusive only creates, readUpTo stops at its limit", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const file = nodePath.join(directory, "file")
      const append = (text: string) =>
        Effect.scoped(Effect.flatMap(SafeFile.openAppend(file), (handle) => handle.write(Buffer.from(text))))
      yield* append("ab")
      yield* append("cd")
      assert.strictEqual(fs.readFileSync(file, "utf8"), "abcd")
      assert.deepStrictEqual(yield* reasonOf(SafeFile.openExclusive(file)), "AlreadyExists")
      assert.deepStrictEqual(
        Option.map(yield* SafeFile.readUpTo(file, 3), (bytes) => Buffer.from(bytes).toString()),
        Option.some("abc")
      )
      assert.deepStrictEqual(
        Option.map(yield* SafeFile.readUpTo(file, 100), (bytes) => Buffer.from(bytes).toString()),
        Option.some("abcd")
      )
      assert.deepStrictEqual(yield* SafeFile.readUpTo(nodePath.join(directory, "missing"), 3), Option.none())
      assert.deepStrictEqual(
        yield* reasonOf(SafeFile.openExclusive(nodePath.join(directory, "no", "file"))),
        "NotFound"
      )

      const created = nodePath.join(directory, "created")
      yield* Effect.scoped(Effect.flatMap(SafeFile.openExclusive(created), (handle) => handle.write(Buffer.from("x"))))
      assert.strictEqual(fs.readFileSync(created, "utf8"), "x")
    }))

  it.effect("remove and removeIfNotRegular remove a link itself, never its target; a regular file stays", () =>
    Effect.gen(function*() {
      const directory = tempDir()
      const target = victim()
      const link = nodePath.join(directory, "link")
      const file = nodePath.join(directory, "file")
      fs.symlinkSync(target.file, link)
      fs.writeFileSync(file, "x")
      assert.isFalse(yield* SafeFile.removeIfNotRegular(file))
      assert.isFalse(yield* SafeFile.removeIfNotRegular(nodePath.join(directory, "missing")))
      assert.isTrue(yield* SafeFile.removeIfNotRegular(link))
      assert.deepStrictEqual(listing(directory), ["file"])
      yield* SafeFile.remove(file)
      yield* SafeFile.remove(file)
      assert.deepStrictEqual(listing(directory), [])
      assert.isTrue(target.unchanged())
    }))
})
