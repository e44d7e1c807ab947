/**
 * The `textreveal` commands, run in the test's process on the program the bin runs (`src/cli/run.ts`): the
 * arguments as a shell gives them, the environment as its configuration, stdout and stderr captured as pipes,
 * against a sandbox of its own per test (faults are per sandbox). What only a process shows (signals, the
 * bundle, a terminal) is in `cli.test.ts`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Sandbox } from "effect-textreveal/sandbox"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import * as zlib from "node:zlib"
import { afterAll } from "vitest"
import { formatBytes } from "../src/cli/progressBars.js"
import { cleanUp, type Env, type Result, runInProcess, sandboxEnv, sha256, tempDir } from "./fixtures/cli.js"

afterAll(cleanUp)

/** Runs `f` with a sandbox of its own, live (tasks progress and URLs expire in real time). */
const withSandbox = <A, E>(
  f: (sandbox: Sandbox.Service, env: Env) => Effect.Effect<A, E, Scope.Scope>,
  options?: Sandbox.Options
) =>
  Effect.flatMap(Sandbox.Sandbox, (sandbox) => f(sandbox, sandboxEnv(sandbox))).pipe(
    Effect.scoped,
    Effect.provide(Sandbox.layer(options))
  )

const unknownTask = "2f1a0c3e-6b7d-4e8f-9a0b-1c2d3e4f5a6b"

/**
 * A server on 127.0.0.1 answering every request (token endpoint and API alike) with `answer()`, closed with the
 * scope; gives its origin.
 */
const hostileServer = (answer: () => { readonly status: number; readonly body: string }) =>
  Effect.acquireRelease(
    Effect.async<http.Server>((resume) => {
      const server = http.createServer((request, response) => {
        request.resume()
        const { body, status } = answer()
        response.writeHead(status, { "content-type": body.startsWith("{") ? "application/json" : "text/html" })
        response.end(body)
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  ).pipe(Effect.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`))

const lines = (text: string) => text.split("\n").filter((line) => line !== "")

/** The exit code, with the output in the message when it is not the one expected. */
const assertExit = (result: Result, code: number) =>
  assert.strictEqual(result.code, code, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`)

/** A failure: nothing on stdout, one or two lines on stderr naming what happened (no stack trace). */
const assertFailure = (result: Result, code: number, pattern: RegExp) => {
  assertExit(result, code)
  assert.strictEqual(result.stdout, "")
  const stderr = lines(result.stderr).filter((line) => !/^\S+Z (DEBUG|INFO|WARN|ERROR) /.test(line))
  assert.isAtLeast(stderr.length, 1)
  assert.isAtMost(stderr.length, 2, result.stderr)
  assert.match(stderr[0]!, pattern)
  assert.notMatch(result.stderr, /\n\s+at /, "no stack trace")
}

/** `--json` output: parseable as a whole, so nothing else is on stdout. */
const json = (result: Result): unknown => {
  assertExit(result, 0)
  return JSON.parse(result.stdout)
}

describe.concurrent("textreveal, in process", () => {
  it.live("status and urls: plain and --json", () =>
    withSandbox((sandbox, env) =>
      Effect.gen(function*() {
        const taskId = yield* sandbox.createTask()
        const files = yield* sandbox.files(taskId)
        // The URLs are answered after this instant: they expire after it too.
        const before = yield* Clock.currentTimeMillis
        const [status, statusJson, urls, urlsJson] = yield* Effect.all([
          runInProcess(["status", taskId.toUpperCase()], env),
          runInProcess(["status", taskId, "--json"], env),
          runInProcess(["urls", taskId], env),
          runInProcess(["urls", "--json", taskId], env)
        ], { concurrency: "unbounded" })
        assertExit(status, 0)
        assert.strictEqual(status.stdout, "completed\n")
        assert.strictEqual(status.stderr, "")
        assert.deepStrictEqual(json(statusJson), { taskId, status: "completed" })

        assertExit(urls, 0)
        const plain = lines(urls.stdout)
        assert.deepStrictEqual(plain.map((url) => new URL(url).pathname), files.map((file) => file.path))
        const listed = json(urlsJson) as ReadonlyArray<{ fileName: string; url: string; expiresAt: string }>
        assert.deepStrictEqual(listed.map((url) => url.fileName), files.map((file) => file.name))
        for (const url of listed) {
          assert.deepStrictEqual(Object.keys(url), ["fileName", "url", "expiresAt"])
          assert.match(url.expiresAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
          assert.isAbove(Date.parse(url.expiresAt), before)
        }
      })
    ))

  it.live("tasks: one line per task (id, status, created, description) and a JSON array, page by page", () =>
    withSandbox((sandbox, env) =>
      Effect.gen(function*() {
        const done = yield* sandbox.createTask({ description: "first export" })
        const running = yield* sandbox.createTask({ runningFor: "1 hour", description: "second export" })
        const [plain, all] = yield* Effect.all([
          runInProcess(["tasks"], env),
          runInProcess(["tasks", "--json", "--size", "1"], env)
        ], { concurrency: "unbounded" })
        assertExit(plain, 0)
        const rows = lines(plain.stdout).map((line) => line.split(/\s+/))
        assert.sameMembers(rows.map((row) => row[0]), [done, running])
        const byId = new Map(rows.map((row) => [row[0], row]))
        assert.strictEqual(byId.get(done)![1], "completed")
        assert.strictEqual(byId.get(running)![1], "running")
        assert.match(byId.get(done)![2]!, /^\d{4}-\d\d-\d\dT/)
        assert.match(plain.stdout, /first export/)

        const tasks = json(all) as ReadonlyArray<
          { id: string; status: string; description: string; created_at: string }
        >
        assert.sameMembers(tasks.map((task) => task.id), [done, running], "paged one task at a time")
        assert.strictEqual(tasks.find((task) => task.id === done)!.description, "first export")
      })
    ))

  it.live("tasks: a header row when stdout is a terminal, none into a pipe", () =>
    withSandbox((sandbox, env) =>
      Effect.gen(function*() {
        const taskId = yield* sandbox.createTask({ description: "an export" })
        const [terminal, piped] = yield* Effect.all([
          runInProcess(["tasks"], env, { stdoutIsTerminal: true }),
          runInProcess(["tasks"], env)
        ], { concurrency: "unbounded" })
        assertExit(terminal, 0)
        const [header, first] = lines(terminal.stdout)
        assert.match(header!, /^ID {36}STATUS {5}CREATED {19}DESCRIPTION$/)
        assert.isTrue(first!.startsWith(`${taskId}  completed`), first)
        assert.strictEqual(first!.indexOf("an export"), header!.indexOf("DESCRIPTION"), "columns aligned")
        assert.deepStrictEqual(lines(piped.stdout), [first], "no header into a pipe")
      })
    ))

  it.live("rows: JSON Lines by default, CSV with one header; --json prints the same, --limit stops", () =>
    withSandbox((sandbox, env) =>
      Effect.gen(function*() {
        const taskId = yield* sandbox.createTask({
          files: [
            { rows: 3, columns: ["entity_id", "name", "comment"] },
            { rows: 2, columns: ["comment", "entity_id", "name"], lineEnding: "crlf", bom: true }
          ]
        })
        const [jsonl, limited, csv] = yield* Effect.all([
          runInProcess(["rows", taskId], env),
          runInProcess(["rows", taskId, "--json", "--limit", "2"], env),
          runInProcess(["rows", taskId, "--format", "csv"], env)
        ], { concurrency: "unbounded" })
        assertExit(jsonl, 0)
        const records = lines(jsonl.stdout).map((line) => JSON.parse(line) as Record<string, string>)
        assert.strictEqual(records.length, 5)
        for (const record of records) assert.sameMembers(Object.keys(record), ["entity_id", "name", "comment"])
        assert.isTrue(records.some((record) => /[\n",]/.test(record.comment!)), "quoted fields survive")
        assert.strictEqual(limited.stdout, lines(jsonl.stdout).slice(0, 2).map((line) => `${line}\n`).join(""))

        assertExit(csv, 0)
        assert.isTrue(csv.stdout.startsWith("entity_id,name,comment\n"), "one header, the first file's")
        assert.strictEqual(csv.stdout.match(/^entity_id,/gm)!.length, 1)
        for (const record of records) {
          assert.include(csv.stdout, `${record.entity_id},`, "every record, in the header's order")
        }
      })
    ))

  it.live("wait: polls until completed, then prints the status, with a log line per status change; download --wait", () =>
    withSandbox((sandbox, env) =>
      Effect.gen(function*() {
        const taskId = yield* sandbox.createTask({ runningFor: "2 seconds" })
        const other = yield* sandbox.createTask({ runningFor: "1 second", files: [{ rows: 10 }] })
        const out = tempDir()
        const [waited, downloaded] = yield* Effect.all([
          runInProcess(["wait", taskId], env),
          runInProcess(["download", other, "--wait", "--out", out], env)
        ], { concurrency: "unbounded" })
        assertExit(waited, 0)
        assert.strictEqual(waited.stdout, "completed\n")
        // (The line for `running` is checked below with a task that runs for an hour: a slow machine may start
        // this child after the task has completed.)
        assert.match(waited.stderr, new RegExp(`^\\S+Z INFO task ${taskId}: completed$`, "m"))
        assert.notInclude(waited.stderr, "\x1b", "no escape codes when stderr is not a terminal")
        assertExit(downloaded, 0)
        assert.strictEqual(lines(downloaded.stdout).length, 1)

        const again = yield* runInProcess(["wait", taskId, "--json", "--quiet", "--timeout", "1m"], env)
        assert.deepStrictEqual(json(again), { taskId, status: "completed" })
        assert.strictEqual(again.stderr, "", "--quiet: no progress")
      })
    ))

  it.live("download: the files on disk with the sandbox's sha256, a line per file; a re-run skips them", () =>
    withSandbox((sandbox, env) =>
      Effect.gen(function*() {
        const taskId = yield* sandbox.createTask()
        const files = yield* sandbox.files(taskId)
        const out = path.join(tempDir(), taskId)
        const first = yield* runInProcess(["download", taskId, "--out", out], env)
        assertExit(first, 0)
        assert.deepStrictEqual(
          lines(first.stdout).map((line) => line.split("\t")),
          files.map((file) => [path.join(out, file.name), String(file.size), file.sha256])
        )
        for (const file of files) assert.strictEqual(sha256(path.join(out, file.name)), file.sha256)
        for (const file of files) {
          const size = formatBytes(file.size).replace(".", "\\.")
          assert.match(first.stderr, new RegExp(`INFO ${file.name}: started, ${size}\n`), "a started line per file")
          assert.match(first.stderr, new RegExp(`INFO ${file.name}: finished, ${size}\n`), "one unit: the same")
        }
        assert.notInclude(first.stderr, "\x1b")

        const again = yield* runInProcess(["download", taskId, "--out", out, "--json", "--verbose"], env)
        assert.deepStrictEqual(
          json(again),
          files.map((file) => ({
            fileName: file.name,
            path: path.join(out, file.name),
            bytes: file.size,
            sha256: file.sha256,
            skipped: true
          }))
        )
        assert.match(again.stderr, /already complete, skipped/)
        assert.match(again.stderr, /DEBUG TextReveal token obtained/, "--verbose logs renewals on stderr")
      })
    ))

  it.live("credentials missing or refused exit 3, naming the variables; no secret is printed", () =>
    withSandbox((sandbox, env) =>
      Effect.gen(function*() {
        const taskId = yield* sandbox.createTask()
        const wrongPassword = "Wr0ng-Pa55word-0f-the-user"
        const token = "tok-0123456789abcdefXYZ"
        const results = yield* Effect.all([
          runInProcess(["status", taskId], { ...env, TEXTREVEAL_USERNAME: undefined, TEXTREVEAL_PASSWORD: undefined }),
          runInProcess(["status", taskId, "--verbose"], { ...env, TEXTREVEAL_PASSWORD: wrongPassword }),
          runInProcess(["download", taskId, "--json", "--verbose"], {
            TEXTREVEAL_BASE_URL: sandbox.baseUrl,
            TEXTREVEAL_TOKEN: token
          }),
          runInProcess(["status", taskId], { ...env, TEXTREVEAL_BASE_URL: "ftp://example.com/v3" })
        ], { concurrency: "unbounded" })
        const [none, refused, badToken, badUrl] = results
        assertFailure(
          none,
          3,
          /No TextReveal credentials: set TEXTREVEAL_TOKEN, or TEXTREVEAL_USERNAME and TEXTREVEAL_PASSWORD/
        )
        assertFailure(refused, 3, /refused the credentials/)
        assertFailure(badToken, 3, /refused the credentials/)
        assertFailure(badUrl, 3, /TEXTREVEAL_BASE_URL must be an http\(s\) URL/)
        for (const result of results) {
          for (const secret of [wrongPassword, token, sandbox.password]) {
            assert.notInclude(result.stdout + result.stderr, secret)
          }
        }
      }), { password: "the-sandbox-s3cret-pa55" }))

  it.live("a token endpoint echoing the password upper-cased, in any escape: exit 3, no secret printed in any case", () =>
    Effect.gen(function*() {
      const password = "Pa55/w0rd<of>&the-user"
      const upper = password.toUpperCase()
      const echoes = [
        JSON.stringify({ error: "invalid_grant", error_description: `Wrong password ${upper}` }),
        JSON.stringify({ error: "invalid_grant", error_description: `Wrong password ${upper}` }).replaceAll("/", "\\/"),
        `<html><p>Wrong password ${
          upper.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
        }</p></html>`,
        `Wrong password ${encodeURIComponent(upper)}`
      ]
      const results = yield* Effect.forEach(
        echoes,
        (body) =>
          Effect.flatMap(
            hostileServer(() => ({ status: 401, body })),
            (server) =>
              runInProcess(["status", unknownTask, "--verbose"], {
                TEXTREVEAL_BASE_URL: `${server}/v3`,
                TEXTREVEAL_TOKEN_URL: `${server}/oauth/token`,
                TEXTREVEAL_USERNAME: "api-key-of-the-user",
                TEXTREVEAL_PASSWORD: password
              })
          ),
        { concurrency: "unbounded" }
      )
      for (const result of results) {
        assertFailure(result, 3, /refused the credentials/)
        const printed = (result.stdout + result.stderr).toLowerCase()
        for (const secret of [password, "pa55", "w0rd", "api-key-of-the-user"]) {
          assert.notInclude(printed, secret.toLowerCase())
        }
      }
    }).pipe(Effect.scoped))

  it.live("tasks from a server alternating its cursors A, B, A …: exit 8 naming the repeated cursor", () =>
    Effect.gen(function*() {
      let pages = 0
      // After 1000 pages the server says it is done: a listing that does not stop at the repetition ends with 0.
      const server = yield* hostileServer(() => {
        pages++
        const task = { id: unknownTask, status: "completed", description: `page ${pages}` }
        const cursor = pages >= 1000 ? null : pages % 2 === 1 ? "A" : "B"
        return {
          status: 200,
          body: JSON.stringify({ data: [task], size: 1, has_next: cursor !== null, count: 1, search_after: cursor })
        }
      })
      const result = yield* runInProcess(["tasks"], {
        TEXTREVEAL_BASE_URL: `${server}/v3`,
        TEXTREVEAL_TOKEN: "tok-cli-cursor"
      })
      assertExit(result, 8)
      assert.match(result.stderr, /on page 3 the search_after cursor it had already given on page 1/)
      assert.strictEqual(lines(result.stdout).length, 2)
      assert.strictEqual(pages, 3)
    }).pipe(Effect.scoped))

  it.live("NotFound and Forbidden exit 4", () =>
    withSandbox((sandbox, env) =>
      Effect.gen(function*() {
        const hidden = yield* sandbox.createTask({ accessible: false })
        const [missing, forbidden] = yield* Effect.all([
          runInProcess(["status", unknownTask], env),
          runInProcess(["download", hidden, "--out", tempDir()], env)
        ], { concurrency: "unbounded" })
        assertFailure(missing, 4, new RegExp(`no task ${unknownTask}`))
        assertFailure(forbidden, 4, new RegExp(`forbids access to task ${hidden}`))
      })
    ))

  it.live("a 429 storm ends in 5 after the retries, each retry logged with --verbose", () =>
    withSandbox((sandbox, env) =>
      Effect.gen(function*() {
        const taskId = yield* sandbox.createTask()
        yield* sandbox.injectFault("status", Sandbox.Fault.TooManyRequests({ retryAfter: 0 }), { rate: 1 })
        const result = yield* runInProcess(["status", taskId, "--verbose", "--json"], env)
        assertFailure(result, 5, /still rate limiting after 9 attempts/)
        assert.strictEqual(result.stderr.match(/WARN TextReveal request failed, retrying .*status=429/g)?.length, 8)
      })
    ))

  it.live("a failed task exits 6: wait prints the final status, download says it failed", () =>
    withSandbox((sandbox, env) =>
      Effect.gen(function*() {
        const taskId = yield* sandbox.createTask({ outcome: "failed" })
        const [waited, downloaded] = yield* Effect.all([
          runInProcess(["wait", taskId, "--json"], env),
          runInProcess(["download", taskId, "--json", "--out", tempDir()], env)
        ], { concurrency: "unbounded" })
        assertExit(waited, 6)
        assert.deepStrictEqual(JSON.parse(waited.stdout), { taskId, status: "failed" })
        assert.match(waited.stderr, new RegExp(`task ${taskId} failed`))
        assertFailure(downloaded, 6, new RegExp(`task ${taskId} failed`))
      })
    ))

  it.live("a task not completed exits 7: wait --timeout, and urls before it is finished", () =>
    withSandbox((sandbox, env) =>
      Effect.gen(function*() {
        const taskId = yield* sandbox.createTask({ runningFor: "1 hour" })
        const [waited, urls] = yield* Effect.all([
          runInProcess(["wait", taskId, "--timeout", "3s"], env),
          runInProcess(["urls", taskId], env)
        ], { concurrency: "unbounded" })
        assertFailure(waited, 7, /was not completed in time \(last status: running\)/)
        assert.match(waited.stderr, new RegExp(`^\\S+Z INFO task ${taskId}: running$`, "m"), "a line per status change")
        assertFailure(urls, 7, new RegExp(`task ${taskId} is not finished yet`))
        assert.match(urls.stderr, new RegExp(`textreveal wait ${taskId}`))
      })
    ))

  it.live("a service or file host that keeps failing exits 8", () =>
    withSandbox((sandbox, env) =>
      Effect.gen(function*() {
        const taskId = yield* sandbox.createTask({ files: [{ rows: 10, name: "only.csv" }] })
        yield* sandbox.injectFault("status", Sandbox.Fault.MalformedJson(), { rate: 1 })
        yield* sandbox.injectFault("file", Sandbox.Fault.TooManyRequests({ retryAfter: 0 }), { rate: 1 })
        const out = tempDir()
        const [status, downloaded, unreachable] = yield* Effect.all([
          runInProcess(["status", taskId], env),
          runInProcess(["download", taskId, "--out", out], env),
          runInProcess(["status", taskId], { ...env, TEXTREVEAL_BASE_URL: "http://127.0.0.1:1/v3" })
        ], { concurrency: "unbounded" })
        assertFailure(status, 8, /answered something unexpected/)
        assertFailure(downloaded, 8, /only\.csv could not be downloaded/)
        assert.match(downloaded.stderr, /Run the same command again/)
        assert.deepStrictEqual(fs.readdirSync(out).filter((name) => !name.startsWith(".")), [])
        assertFailure(unreachable, 8, /^textreveal: could not reach TextReveal at 127\.0\.0\.1:1: ECONNREFUSED$/)
        assert.strictEqual(unreachable.stderr.match(/ECONNREFUSED/g)?.length, 1, "the reason said once")
        assert.notInclude(unreachable.stderr, "retrying", "no retry notice into a pipe")
      })
    ))

  it.live("an unreachable host on a terminal: one line says it is retrying, then the failure names it once", () =>
    Effect.gen(function*() {
      const result = yield* runInProcess(["status", unknownTask], {
        TEXTREVEAL_BASE_URL: "http://127.0.0.1:1/v3",
        TEXTREVEAL_TOKEN: "tok-unreachable"
      }, { stderrIsTerminal: true })
      assertExit(result, 8)
      const said = lines(result.stderr.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, ""))
      assert.deepStrictEqual(said, [
        "textreveal: TextReveal did not answer (ECONNREFUSED); retrying (--verbose shows each retry)...",
        "textreveal: could not reach TextReveal at 127.0.0.1:1: ECONNREFUSED",
        "Check the network, TEXTREVEAL_BASE_URL and TEXTREVEAL_TOKEN_URL, then try again."
      ])
    }))

  it.live("corrupt gzip ends rows at once with exit 8, naming the file, in every output mode", () =>
    withSandbox((sandbox, env) =>
      Effect.gen(function*() {
        const gzip = zlib.gzipSync("id,name\n1,a\n2,b\n")
        // The CRC alone is wrong: every byte inflates, then the check fails.
        gzip[gzip.length - 8]! ^= 0xff
        const taskId = yield* sandbox.createTask({ files: [{ name: "bad.csv.gz", content: gzip }] })
        const results = yield* Effect.all([
          runInProcess(["rows", taskId], env),
          runInProcess(["rows", taskId, "--json"], env),
          runInProcess(["rows", taskId, "--format", "csv"], env)
        ], { concurrency: "unbounded" })
        for (const result of results) assertFailure(result, 8, /bad\.csv\.gz could not be downloaded: .*gzip/)
      })
    ))
})
