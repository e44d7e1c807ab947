/**
 * `effect-textreveal/promise`: the Promise client against the sandbox over real sockets on 127.0.0.1, each test
 * with a sandbox of its own (live: tasks progress and URLs expire in real time), and against small hostile
 * servers for what the sandbox does not do (echoing secrets). What only a process shows (it exits on its own
 * once the client is closed) runs in child processes: a script on the compiled entry, and the example.
 */
import * as HttpClientError from "@effect/platform/HttpClientError"
import { Sandbox } from "effect-textreveal/sandbox"
import type * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as esbuild from "esbuild"
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as util from "node:util"
import { afterAll, assert, describe, it, vi } from "vitest"
import {
  type Client,
  ClientClosed,
  type ClientOptions,
  ConfigurationError,
  createClient,
  TaskResultsError,
  TextRevealError
} from "../src/promise.js"

const root = fileURLToPath(new URL("..", import.meta.url))

// ---- fixtures

const made: Array<string> = []

/** A fresh temporary directory, removed after the file's tests. */
const tempDir = () => {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), "textreveal-promise-"))
  made.push(directory)
  return directory
}

afterAll(() => made.forEach((directory) => fs.rmSync(directory, { recursive: true, force: true })))

interface Fixture {
  readonly sandbox: Sandbox.Service
  /** Runs an effect of the sandbox (create a task, inject a fault, read its request log). */
  readonly sb: <A, E>(effect: Effect.Effect<A, E>) => Promise<A>
  /** A client of the sandbox with its username and password, closed at the end of the test. */
  readonly client: Client
  /** Another client of the sandbox (`token` or other credentials in `options`), closed at the end of the test. */
  readonly clientWith: (options: ClientOptions) => Client
}

/** Runs `f` with a sandbox of its own and clients of it, all closed at the end. */
const withSandbox = async <A>(
  f: (fixture: Fixture) => Promise<A>,
  options: { readonly sandbox?: Sandbox.Options; readonly client?: ClientOptions } = {}
): Promise<A> => {
  const runtime = ManagedRuntime.make(Sandbox.layer(options.sandbox))
  const clients: Array<Client> = []
  try {
    const sandbox = await runtime.runPromise(Sandbox.Sandbox)
    const clientWith = (clientOptions: ClientOptions) => {
      const client = createClient({ baseUrl: sandbox.baseUrl, ...clientOptions } as ClientOptions)
      clients.push(client)
      return client
    }
    const client = clientWith({
      username: sandbox.username,
      password: sandbox.password,
      tokenUrl: sandbox.tokenUrl,
      ...options.client
    } as ClientOptions)
    return await f({ sandbox, sb: (effect) => runtime.runPromise(effect), client, clientWith })
  } finally {
    await Promise.all(clients.map((client) => client.close()))
    await runtime.dispose()
  }
}

/** The error a promise rejects with; fails when it resolves. */
const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then((value) => assert.fail(`resolved with ${util.inspect(value)}`), (error: unknown) => error)

/** The error an iteration throws; fails when it ends. */
const iterationError = async (iterable: AsyncIterable<unknown>): Promise<unknown> => {
  try {
    for await (const _ of iterable) {
      // drained
    }
  } catch (error) {
    return error
  }
  return assert.fail("the iteration ended without an error")
}

/** An error as the Promise API must throw it: the library's class itself, an `Error`, not a `FiberFailure`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const assertThrown = <C extends new(...args: Array<any>) => unknown>(
  error: unknown,
  cls: C,
  tag: string
): InstanceType<C> => {
  assert.instanceOf(error, cls)
  assert.instanceOf(error, Error)
  assert.strictEqual((error as unknown as { _tag: string })._tag, tag)
  assert.notInclude(String(error), "FiberFailure")
  assert.isFalse(Symbol.for("effect/Runtime/FiberFailure") in error)
  return error as InstanceType<C>
}

const unknownTask = "2f1a0c3e-6b7d-4e8f-9a0b-1c2d3e4f5a6b"

/** The requests of one route the sandbox received. */
const requestsOf = async ({ sandbox, sb }: Fixture, route: Sandbox.Route) =>
  (await sb(sandbox.requests)).filter((request) => request.route === route)

const sha256 = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex")

/** A server on 127.0.0.1 answering with `handler`; gives its origin and a way to close it. */
const hostileServer = async (
  handler: (request: http.IncomingMessage, body: string, response: http.ServerResponse) => void
) => {
  const server = http.createServer((request, response) => {
    let body = ""
    request.setEncoding("utf8").on("data", (chunk: string) => body += chunk).on("end", () => {
      handler(request, body, response)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** A port nothing listens on (it was free a moment ago). */
const closedPort = async () => {
  const server = await hostileServer(() => {})
  await server.close()
  return server.origin
}

const baseEnv = () => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", LANG: "C.UTF-8" })

interface Exited {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to its end, with only the environment given (never the caller's `TEXTREVEAL_*`). */
const runToEnd = (command: string, args: ReadonlyArray<string>, env: Record<string, string>) =>
  new Promise<Exited>((resolve) => {
    const child = spawn(command, args, { cwd: root, env: { ...baseEnv(), ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => stdout += chunk)
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => stderr += chunk)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

const sandboxEnv = (sandbox: Sandbox.Service) => ({
  TEXTREVEAL_BASE_URL: sandbox.baseUrl,
  TEXTREVEAL_TOKEN_URL: sandbox.tokenUrl,
  TEXTREVEAL_USERNAME: sandbox.username,
  TEXTREVEAL_PASSWORD: sandbox.password
})

// ---- the calls

describe.concurrent("effect-textreveal/promise", () => {
  it("getTaskStatus and getDownloadUrls: the sandbox's state and files", () =>
    withSandbox(async (fixture) => {
      const { client, sandbox, sb } = fixture
      const done = await sb(sandbox.createTask({ files: [{ rows: 10 }, { rows: 5 }] }))
      const running = await sb(sandbox.createTask({ runningFor: "1 hour" }))
      assert.strictEqual(await client.getTaskStatus(done), "completed")
      assert.strictEqual(await client.getTaskStatus(running.toUpperCase()), "running")
      const urls = await client.getDownloadUrls(done)
      const files = await sb(sandbox.files(done))
      assert.deepStrictEqual(urls.map((url) => new URL(url.url).pathname), files.map((file) => file.path))
      assert.deepStrictEqual(urls.map((url) => url.fileName), files.map((file) => file.name))
      // One token for all of them: the client's token cache is shared by its calls.
      assert.lengthOf(await requestsOf(fixture, "token"), 1)
    }))

  it("one retry budget for every call of a client: a retry spent by one call is missing to the next", () =>
    withSandbox(async ({ clientWith, sandbox, sb }) => {
      const options = { username: sandbox.username, password: sandbox.password, tokenUrl: sandbox.tokenUrl }
      // Room for one retry in all.
      const client = clientWith({ ...options, retryBudget: { capacity: 5, cost: 5 }, transientRetry: { base: 10 } })
      const taskId = await sb(sandbox.createTask())
      await client.getTaskStatus(taskId) // the token, obtained before the faults
      await sb(sandbox.injectFault("status", Sandbox.Fault.ServerError({ status: 503 }), { times: 3 }))
      const first = assertThrown(
        await rejection(client.getTaskStatus(taskId)),
        TextRevealError.ServerError,
        "ServerError"
      )
      assert.strictEqual(first.attempts, 2, "retried once, then the budget was empty")
      const second = assertThrown(
        await rejection(client.getTaskStatus(taskId)),
        TextRevealError.ServerError,
        "ServerError"
      )
      assert.strictEqual(second.attempts, 1, "not retried: the budget the first call emptied is the same")
    }))

  it("listTasks: every task, one page per step, nothing fetched ahead; break stops fetching", () =>
    withSandbox(async (fixture) => {
      const { client, sandbox, sb } = fixture
      const ids = [
        await sb(sandbox.createTask({ description: "one" })),
        await sb(sandbox.createTask({ description: "two" })),
        await sb(sandbox.createTask({ description: "three" }))
      ]
      const listed: Array<string> = []
      for await (const task of client.listTasks({ size: 1 })) {
        listed.push(task.id)
        assert.lengthOf(await requestsOf(fixture, "tasks"), listed.length, "one page per task, none ahead")
      }
      assert.sameMembers(listed, ids)

      await sb(sandbox.clearRequests)
      for await (const task of client.listTasks({ size: 1 })) {
        assert.include(ids, task.id)
        break
      }
      // A later call: a page fetched after the break would have reached the sandbox before it.
      await client.getTaskStatus(ids[0]!)
      assert.lengthOf(await requestsOf(fixture, "tasks"), 1)
    }))

  it("listTasks: bad options throw Invalid at the first step; a failing page throws its error from the loop", () =>
    withSandbox(async (fixture) => {
      const { clientWith, sandbox, sb } = fixture
      const client = clientWith({
        username: sandbox.username,
        password: sandbox.password,
        tokenUrl: sandbox.tokenUrl,
        transientRetry: false
      })
      const invalid = assertThrown(
        await iterationError(client.listTasks({ size: 0 })),
        TextRevealError.Invalid,
        "Invalid"
      )
      assert.strictEqual(invalid.status, 400)
      assert.match(invalid.message, /size/)
      assert.lengthOf(await requestsOf(fixture, "tasks"), 0, "nothing sent")

      await sb(sandbox.createTask())
      await sb(sandbox.createTask())
      const seen: Array<string> = []
      const error = await (async () => {
        try {
          for await (const task of client.listTasks({ size: 1 })) {
            seen.push(task.id)
            await sb(sandbox.injectFault("tasks", Sandbox.Fault.ServerError({ status: 503 })))
          }
        } catch (error) {
          return error
        }
        return assert.fail("the listing ended")
      })()
      assert.lengthOf(seen, 1)
      assert.strictEqual(assertThrown(error, TextRevealError.ServerError, "ServerError").status, 503)
    }))

  it("startExport and awaitCompletion: the export's task, waited for until completed", () =>
    withSandbox(async ({ client }) => {
      const taskId = await client.startExport("universes/7d1e2f3a-0000-4000-8000-000000000001/entities", {
        fields: ["entity_id", "name"]
      })
      assert.notStrictEqual(await client.getTaskStatus(taskId), "completed")
      await client.awaitCompletion(taskId, { timeout: "5 minutes" })
      assert.strictEqual(await client.getTaskStatus(taskId), "completed")
      const bad = assertThrown(await rejection(client.startExport("../tasks")), TextRevealError.Invalid, "Invalid")
      assert.match(bad.message, /resource/)
    }, { sandbox: { exportTask: { runningFor: "1 second", files: [{ rows: 3 }] } } }))

  it("awaitCompletion: a failed task throws TaskFailed, a wait past its timeout WaitTimeout", () =>
    withSandbox(async ({ client, sandbox, sb }) => {
      const failed = await sb(sandbox.createTask({ outcome: "failed" }))
      const running = await sb(sandbox.createTask({ runningFor: "1 hour" }))
      const taskFailed = assertThrown(
        await rejection(client.awaitCompletion(failed)),
        TaskResultsError.TaskFailed,
        "TaskFailed"
      )
      assert.strictEqual(taskFailed.taskId, failed)
      const timedOut = assertThrown(
        await rejection(client.awaitCompletion(running, { timeout: 200 })),
        TaskResultsError.WaitTimeout,
        "WaitTimeout"
      )
      assert.strictEqual(timedOut.taskId, running)
      assert.match(timedOut.message, /not completed in time/)
    }))

  it("download: every file on disk with the sandbox's size and SHA-256, progress reported", () =>
    withSandbox(async ({ client, sandbox, sb }) => {
      const taskId = await sb(
        sandbox.createTask({ files: [{ rows: 2000, name: "a.csv" }, { rows: 50, name: "b.csv" }] })
      )
      const directory = tempDir()
      const progress: Array<string> = []
      const files = await client.download(taskId, {
        directory,
        concurrency: 1,
        onProgress: (p) => progress.push(p.fileName)
      })
      const served = await sb(sandbox.files(taskId))
      assert.deepStrictEqual(
        files.map((file) => [file.fileName, file.bytes, file.sha256]),
        served.map((file) => [file.name, file.size, file.sha256])
      )
      for (const file of files) assert.strictEqual(sha256(file.path), file.sha256)
      assert.includeMembers(progress, ["a.csv", "b.csv"])
      const again = await client.download(taskId, { directory })
      assert.deepStrictEqual(again.map((file) => file.skipped), [true, true])
    }))

  it("rows: the records keyed by their header, file after file; break stops reading", () =>
    withSandbox(async ({ client, sandbox, sb }) => {
      const taskId = await sb(sandbox.createTask({
        files: [
          { content: "id,name\n1,Acme\n2,\"Globex, Inc.\"\n", name: "a.csv" },
          { content: "name,id\nInitech,3\n", name: "b.csv" }
        ]
      }))
      const rows: Array<Record<string, string>> = []
      for await (const row of client.rows(taskId)) rows.push({ ...row })
      assert.deepStrictEqual(rows, [
        { id: "1", name: "Acme" },
        { id: "2", name: "Globex, Inc." },
        { id: "3", name: "Initech" }
      ])
      const first: Array<Record<string, string>> = []
      for await (const row of client.rows(taskId)) {
        first.push({ ...row })
        break
      }
      assert.deepStrictEqual(first, [{ id: "1", name: "Acme" }])
    }))

  it("rows: a record that cannot be read throws RowError from the loop", () =>
    withSandbox(async ({ client, sandbox, sb }) => {
      const taskId = await sb(sandbox.createTask({ files: [{ content: "a,b\n1,2\n3,4,5\n", name: "bad.csv" }] }))
      const seen: Array<unknown> = []
      const error = await iterationError({
        [Symbol.asyncIterator]: async function*() {
          for await (const row of client.rows(taskId)) {
            seen.push(row)
            yield row
          }
        }
      })
      assert.lengthOf(seen, 1)
      const rowError = assertThrown(error, TaskResultsError.RowError, "RowError")
      assert.strictEqual(rowError.fileName, "bad.csv")
      assert.strictEqual(rowError.line, 3)
    }))

  // ---- errors

  it("each error of the API is thrown as the library's class: NotFound, Forbidden, Invalid, Unauthorized, TooManyRequests, ServerError", () =>
    withSandbox(async ({ client, clientWith, sandbox, sb }) => {
      const notFound = assertThrown(
        await rejection(client.getTaskStatus(unknownTask)),
        TextRevealError.NotFound,
        "NotFound"
      )
      assert.strictEqual(notFound.status, 404)
      assert.strictEqual(notFound.taskId, unknownTask)
      assert.include(notFound.message, unknownTask)

      const hidden = await sb(sandbox.createTask({ accessible: false }))
      const forbidden = assertThrown(
        await rejection(client.getDownloadUrls(hidden)),
        TextRevealError.Forbidden,
        "Forbidden"
      )
      assert.strictEqual(forbidden.status, 403)

      const notUuid = assertThrown(await rejection(client.getDownloadUrls("nope")), TextRevealError.Invalid, "Invalid")
      assert.deepStrictEqual(notUuid.errors.map((e) => e.field), ["task_id"])
      const running = await sb(sandbox.createTask({ runningFor: "1 hour" }))
      const notCompleted = assertThrown(
        await rejection(client.getDownloadUrls(running)),
        TextRevealError.Invalid,
        "Invalid"
      )
      assert.isTrue(notCompleted.taskNotCompleted)

      const wrongPassword = clientWith({ username: sandbox.username, password: "wrong", tokenUrl: sandbox.tokenUrl })
      const unauthorized = assertThrown(
        await rejection(wrongPassword.getTaskStatus(running)),
        TextRevealError.Unauthorized,
        "Unauthorized"
      )
      assert.isNumber(unauthorized.status)
      const unknownToken = clientWith({ token: "not-a-token-the-sandbox-issued" })
      assert.strictEqual(
        assertThrown(await rejection(unknownToken.getTaskStatus(running)), TextRevealError.Unauthorized, "Unauthorized")
          .status,
        401
      )

      const noRetry = clientWith({
        username: sandbox.username,
        password: sandbox.password,
        tokenUrl: sandbox.tokenUrl,
        retry: false,
        transientRetry: false
      })
      await sb(sandbox.injectFault("status", Sandbox.Fault.TooManyRequests({ retryAfter: 7 })))
      const limited = assertThrown(
        await rejection(noRetry.getTaskStatus(running)),
        TextRevealError.TooManyRequests,
        "TooManyRequests"
      )
      assert.strictEqual(limited.status, 429)
      assert.strictEqual(limited.attempts, 1)
      await sb(sandbox.injectFault("status", Sandbox.Fault.ServerError({ status: 502, html: true })))
      const serverError = assertThrown(
        await rejection(noRetry.getTaskStatus(running)),
        TextRevealError.ServerError,
        "ServerError"
      )
      assert.strictEqual(serverError.status, 502)
    }))

  it("transport and body failures are the platform's RequestError and ResponseError; a file that stays unreachable a DownloadError", () =>
    withSandbox(async ({ clientWith, sandbox, sb }) => {
      const client = clientWith({
        username: sandbox.username,
        password: sandbox.password,
        tokenUrl: sandbox.tokenUrl,
        transientRetry: false
      })
      const taskId = await sb(sandbox.createTask({ files: [{ rows: 10, name: "a.csv" }] }))
      await sb(sandbox.injectFault("status", Sandbox.Fault.MalformedJson()))
      const decode = assertThrown(
        await rejection(client.getTaskStatus(taskId)),
        HttpClientError.ResponseError,
        "ResponseError"
      )
      assert.strictEqual(decode.reason, "Decode")

      const unreachable = clientWith({ token: "t", baseUrl: `${await closedPort()}/v3`, transientRetry: false })
      const transport = assertThrown(
        await rejection(unreachable.getTaskStatus(taskId)),
        HttpClientError.RequestError,
        "RequestError"
      )
      assert.strictEqual(transport.reason, "Transport")

      // Every URL expires at once: the file host refuses it, fresh URLs are refused too.
      await sb(sandbox.injectFault("download", Sandbox.Fault.ExpireEarly({}), { times: 10 }))
      const download = assertThrown(
        await rejection(client.download(taskId, { directory: tempDir() })),
        TaskResultsError.DownloadError,
        "DownloadError"
      )
      assert.strictEqual(download.reason, "Expired")
      assert.strictEqual(download.fileName, "a.csv")
    }))

  it("ConfigurationError: options of the wrong shape at once; no credentials or a bad base URL on every call", async () => {
    const throws = (options: unknown, pattern: RegExp) => {
      try {
        createClient(options as ClientOptions)
      } catch (error) {
        assert.match(assertThrown(error, ConfigurationError, "ConfigurationError").message, pattern)
        return
      }
      assert.fail(`createClient(${util.inspect(options)}) did not throw`)
    }
    throws({ token: "t", username: "u", password: "p" }, /either token, or username and password/)
    throws({ username: "u" }, /username and password go together/)
    throws({ token: "t", timeout: "5 secs" }, /timeout is not a duration/)
    throws({ token: "t", retry: { base: "soon" } }, /retry\.base is not a duration/)

    const badUrl = createClient({ token: "t", baseUrl: "ftp://example.com/v3" })
    try {
      for (let call = 0; call < 2; call++) {
        const error = assertThrown(
          await rejection(badUrl.getTaskStatus(unknownTask)),
          ConfigurationError,
          "ConfigurationError"
        )
        assert.match(error.message, /baseUrl must be an http\(s\) URL/)
      }
      assertThrown(await iterationError(badUrl.listTasks()), ConfigurationError, "ConfigurationError")
    } finally {
      await badUrl.close()
    }

    vi.stubEnv("TEXTREVEAL_TOKEN", "")
    vi.stubEnv("TEXTREVEAL_USERNAME", "key-only")
    vi.stubEnv("TEXTREVEAL_PASSWORD", "")
    try {
      await using fromEnv = createClient({ baseUrl: "http://127.0.0.1:9/v3" })
      const error = assertThrown(
        await rejection(fromEnv.getTaskStatus(unknownTask)),
        ConfigurationError,
        "ConfigurationError"
      )
      assert.match(error.message, /TEXTREVEAL_PASSWORD is not set/)
      assert.notInclude(error.message, "key-only")
    } finally {
      vi.unstubAllEnvs()
    }
  })

  it("deadline: a download or a read past it rejects with DeadlineExceeded; a per-call duration that is not one is a ConfigurationError before anything is sent", () =>
    withSandbox(async ({ client, sandbox, sb }) => {
      const taskId = await sb(sandbox.createTask())
      // Every file body (of the download, then of the read) sends its first piece an hour from now.
      await sb(sandbox.injectFault("file", Sandbox.Fault.SlowBody({ delay: "1 hour" }), { rate: 1 }))
      const directory = tempDir()
      const late = await rejection(client.download(taskId, { directory, deadline: "300 millis" }))
      assert.strictEqual(assertThrown(late, TaskResultsError.DeadlineExceeded, "DeadlineExceeded").taskId, taskId)
      assertThrown(
        await iterationError(client.rows(taskId, { deadline: "300 millis" })),
        TaskResultsError.DeadlineExceeded,
        "DeadlineExceeded"
      )

      const sent = (await sb(sandbox.requests)).length
      const refused = [
        [rejection(client.download(taskId, { directory, deadline: "soon" as never })), /deadline is not a duration/],
        [iterationError(client.rows(taskId, { deadline: "soon" as never })), /deadline is not a duration/],
        [rejection(client.awaitCompletion(taskId, { timeout: "soon" as never })), /timeout is not a duration/],
        [
          rejection(client.startExport("universes", {}, { waitForSlot: "soon" as never })),
          /waitForSlot is not a duration/
        ]
      ] as const
      for (const [error, pattern] of refused) {
        assert.match(assertThrown(await error, ConfigurationError, "ConfigurationError").message, pattern)
      }
      assert.strictEqual((await sb(sandbox.requests)).length, sent)
    }))

  // ---- signals, close

  it("an aborted signal interrupts a download, leaves only .part files and rejects with its reason; the next run finishes them", () =>
    withSandbox(async (fixture) => {
      const { client, sandbox, sb } = fixture
      const taskId = await sb(sandbox.createTask({ files: [{ rows: 100_000, name: "big.csv" }] }))
      // The file trickles, so that the download is still receiving it when the signal fires.
      await sb(sandbox.injectFault("file", Sandbox.Fault.SlowBody({ delay: "20 millis", chunkSize: 16_384 })))
      const directory = tempDir()
      const controller = new AbortController()
      const reason = new Error("stopped by the caller")
      const error = await rejection(client.download(taskId, {
        directory,
        signal: controller.signal,
        // The first report of bytes received, before the file is complete: abort then.
        onProgress: (progress) => {
          if (progress.fileBytes > 0 && progress.fileBytes < (progress.fileSize ?? Infinity)) controller.abort(reason)
        }
      }))
      assert.strictEqual(error, reason)

      const left = fs.readdirSync(directory)
      assert.notInclude(left, "big.csv")
      const partial = left.filter((name) => name.endsWith(".part"))
      assert.deepStrictEqual(partial, [".big.csv.part"])
      assert.deepStrictEqual(
        left.filter((name) => !name.endsWith(".part") && !name.startsWith(".textreveal-manifest")),
        [],
        `only .part files and the manifest: ${left.join(", ")}`
      )
      const had = fs.statSync(path.join(directory, ".big.csv.part")).size
      assert.isAbove(had, 0)

      // The same client goes on: the next run continues the file from the bytes on disk.
      await sb(sandbox.clearFaults)
      await sb(sandbox.clearRequests)
      const [file] = await client.download(taskId, { directory })
      const [served] = await sb(sandbox.files(taskId))
      assert.strictEqual(file!.sha256, served!.sha256)
      const ranges = (await requestsOf(fixture, "file")).map((request) => request.range)
      assert.deepStrictEqual(ranges, [`bytes=${had}-`])
    }))

  it("an aborted signal rejects a call with its reason, before anything is sent or while it runs; it ends an iteration", () =>
    withSandbox(async (fixture) => {
      const { client, sandbox, sb } = fixture
      const running = await sb(sandbox.createTask({ runningFor: "1 hour" }))
      const early = new Error("aborted before")
      assert.strictEqual(await rejection(client.getTaskStatus(running, { signal: AbortSignal.abort(early) })), early)
      assert.lengthOf(await requestsOf(fixture, "status"), 0, "nothing sent")

      // A wait for a task running for an hour: it ends only by the signal.
      const controller = new AbortController()
      const waiting = rejection(client.awaitCompletion(running, { signal: controller.signal }))
      const later = new Error("aborted while waiting")
      controller.abort(later)
      assert.strictEqual(await waiting, later)

      await sb(sandbox.createTask())
      await sb(sandbox.clearRequests)
      const listing = new AbortController()
      const stopped = new Error("enough")
      const seen: Array<string> = []
      try {
        for await (const task of client.listTasks({ size: 1, signal: listing.signal })) {
          seen.push(task.id)
          listing.abort(stopped)
        }
        assert.fail("the listing ended")
      } catch (error) {
        assert.strictEqual(error, stopped)
      }
      assert.lengthOf(seen, 1)
      assert.lengthOf(await requestsOf(fixture, "tasks"), 1)
    }))

  it("close() interrupts the running calls with ClientClosed, refuses new ones, and is idempotent", () =>
    withSandbox(async ({ clientWith, sandbox, sb }) => {
      const client = clientWith({ username: sandbox.username, password: sandbox.password, tokenUrl: sandbox.tokenUrl })
      const running = await sb(sandbox.createTask({ runningFor: "1 hour" }))
      await sb(sandbox.createTask())
      const waiting = rejection(client.awaitCompletion(running))
      const listing = client.listTasks({ size: 1 })[Symbol.asyncIterator]()
      assert.isFalse((await listing.next()).done)
      const closing = client.close()
      assert.strictEqual(client.close(), closing)
      await closing
      assertThrown(await waiting, ClientClosed, "ClientClosed")
      assertThrown(await rejection(listing.next()), ClientClosed, "ClientClosed")
      assertThrown(await rejection(client.getTaskStatus(running)), ClientClosed, "ClientClosed")
      assertThrown(await iterationError(client.rows(running)), ClientClosed, "ClientClosed")
    }))

  it("an exception thrown by onProgress rejects the download with it, not with a wrapper", () =>
    withSandbox(async ({ client, sandbox, sb }) => {
      const taskId = await sb(sandbox.createTask({ files: [{ rows: 10 }] }))
      const thrown = new RangeError("from onProgress")
      const error = await rejection(client.download(taskId, {
        directory: tempDir(),
        onProgress: () => {
          throw thrown
        }
      }))
      // The exception itself, or (as Effect reports a defect passing a traced call) a copy of it.
      assert.instanceOf(error, RangeError)
      assert.strictEqual((error as RangeError).message, "from onProgress")
      assert.include((error as RangeError).stack, "promise.test.ts")
    }))

  it("the library's log lines (a retry) go to stderr, not to the application's stdout", () =>
    withSandbox(async ({ client, sandbox, sb }) => {
      const taskId = await sb(sandbox.createTask())
      const log = vi.spyOn(console, "log")
      const error = vi.spyOn(console, "error")
      try {
        await sb(sandbox.injectFault("status", Sandbox.Fault.TooManyRequests({ retryAfter: 0 })))
        assert.strictEqual(await client.getTaskStatus(taskId), "completed")
        const retried = (spy: typeof log) => spy.mock.calls.some((args) => String(args[0]).includes(taskId))
        assert.isTrue(retried(error), "the retry is logged on stderr")
        assert.isFalse(retried(log), "nothing on stdout")
      } finally {
        log.mockRestore()
        error.mockRestore()
      }
    }))

  // ---- secrets

  it("no secret in any rendering of a thrown error: message, stack, String, JSON.stringify, util.inspect", async () => {
    const token = "tok-5ecret-Zq8vN3xT7pL2"
    const password = "pw-5ecret-Hk4mR9sW1cY6"
    const seen = { authorization: 0, password: 0 }
    const server = await hostileServer((request, body, response) => {
      const authorization = request.headers.authorization ?? ""
      if (authorization.includes(token)) seen.authorization++
      if (body.includes(password)) seen.password++
      const echo = `${authorization} ${body}`
      const url = request.url ?? ""
      if (url === "/oauth/token") {
        response.writeHead(400, { "content-type": "application/json", "x-request-id": password })
        response.end(JSON.stringify({ message: `refused ${echo}`, code: 400, reason: "invalid" }))
      } else if (url.endsWith("/status")) {
        response.writeHead(401, { "content-type": "application/json", "x-request-id": token })
        response.end(JSON.stringify({ message: `bad token ${echo}`, code: 401, reason: "unauthorized" }))
      } else if (url.endsWith("/download")) {
        response.writeHead(500, { "content-type": "text/html" })
        response.end(`<html>${echo}</html>`)
      } else {
        response.writeHead(200, { "content-type": "application/json", "x-request-id": token })
        response.end(`{"data": ["${echo}"`)
      }
    })
    const options = { baseUrl: `${server.origin}/v3`, transientRetry: false, retry: false } as const
    await using withToken = createClient({ ...options, token })
    await using withPassword = createClient({
      ...options,
      username: "key",
      password,
      tokenUrl: `${server.origin}/oauth/token`
    })
    await using unreachable = createClient({ ...options, token, baseUrl: `${await closedPort()}/v3` })
    try {
      const errors = [
        assertThrown(
          await rejection(withToken.getTaskStatus(unknownTask)),
          TextRevealError.Unauthorized,
          "Unauthorized"
        ),
        assertThrown(
          await rejection(withToken.getDownloadUrls(unknownTask)),
          TextRevealError.ServerError,
          "ServerError"
        ),
        assertThrown(await iterationError(withToken.listTasks()), HttpClientError.ResponseError, "ResponseError"),
        assertThrown(
          await rejection(withPassword.getTaskStatus(unknownTask)),
          TextRevealError.Unauthorized,
          "Unauthorized"
        ),
        assertThrown(
          await rejection(unreachable.getTaskStatus(unknownTask)),
          HttpClientError.RequestError,
          "RequestError"
        )
      ]
      assert.isAbove(seen.authorization, 0, "the token was sent")
      assert.isAbove(seen.password, 0, "the password was sent")
      for (const error of errors) {
        const renderings = {
          message: (error as Error).message,
          stack: (error as Error).stack ?? "",
          string: String(error),
          json: JSON.stringify(error),
          inspect: util.inspect(error, { depth: Infinity }),
          hidden: util.inspect(error, { depth: Infinity, showHidden: true })
        }
        for (const [how, text] of Object.entries(renderings)) {
          assert.notInclude(text, token, `${(error as { _tag: string })._tag} ${how}`)
          assert.notInclude(text, password, `${(error as { _tag: string })._tag} ${how}`)
        }
      }
    } finally {
      await server.close()
    }
  })

  // ---- processes

  it(
    "close() releases the sockets: a script on the compiled entry, credentials from the environment, exits on its own",
    async () => {
      // The package's modules as `dist` holds them (each file transpiled to ESM on its own, by esbuild: a tenth
      // of the CPU of `tsc`), in a directory of this run's own that resolves the dependencies from the project's
      // node_modules.
      const build = tempDir()
      fs.symlinkSync(path.join(root, "node_modules"), path.join(build, "node_modules"), "dir")
      fs.writeFileSync(path.join(build, "package.json"), JSON.stringify({ type: "module" }))
      await esbuild.build({
        entryPoints: [path.join(root, "src", "**", "*.ts")],
        outbase: path.join(root, "src"),
        outdir: path.join(build, "dist"),
        bundle: false,
        platform: "node",
        format: "esm",
        target: "node20",
        logLevel: "error"
      })
      const script = path.join(build, "script.mjs")
      fs.writeFileSync(
        script,
        `import { createClient } from "./dist/promise.js"
const [taskId, directory] = process.argv.slice(2)
const client = createClient()
const urls = await client.getDownloadUrls(taskId)
const files = await client.download(taskId, { directory })
let rows = 0
for await (const _ of client.rows(taskId)) if (++rows === 3) break
for await (const _ of client.listTasks({ size: 1 })) break
const sockets = () => process.getActiveResourcesInfo().filter((kind) => kind.startsWith("TCP")).length
const before = sockets()
await client.close()
console.log(JSON.stringify({ urls: urls.length, files: files.map((file) => file.sha256), rows, before, after: sockets() }))
`
      )
      await withSandbox(async ({ sandbox, sb }) => {
        const taskId = await sb(sandbox.createTask({ files: [{ rows: 20 }, { rows: 5 }] }))
        const served = await sb(sandbox.files(taskId))
        const result = await runToEnd(process.execPath, [script, taskId, tempDir()], sandboxEnv(sandbox))
        assert.strictEqual(result.code, 0, `${result.stdout}\n${result.stderr}`)
        const { after, before, ...done } = JSON.parse(result.stdout)
        assert.deepStrictEqual(done, { urls: 2, files: served.map((file) => file.sha256), rows: 3 })
        assert.isAtLeast(before, 1, "the client kept a connection open until closed")
        assert.strictEqual(after, 0, "no socket left once closed")
      })
    },
    300_000
  )

  it(
    "the example downloads a task of the sandbox and prints its first rows, with env credentials",
    () =>
      withSandbox(async ({ sandbox, sb }) => {
        const taskId = await sb(sandbox.createTask({ files: [{ rows: 20, name: "entities.csv" }] }))
        const directory = tempDir()
        const result = await runToEnd(
          process.execPath,
          [path.join(root, "node_modules/tsx/dist/cli.mjs"), "examples/promise.ts", taskId, directory],
          sandboxEnv(sandbox)
        )
        assert.strictEqual(result.code, 0, `${result.stdout}\n${result.stderr}`)
        assert.match(result.stdout, /^entities\.csv {2}http:\/\/127\.0\.0\.1:\d+\/files\//m)
        const [served] = await sb(sandbox.files(taskId))
        assert.include(
          result.stdout,
          `${path.join(directory, "entities.csv")}  ${served!.size} bytes  sha256 ${served!.sha256}`
        )
        const rows = result.stdout.split("First rows:\n")[1]!.trim().split("\n")
        assert.lengthOf(rows, 3)
        assert.hasAllKeys(JSON.parse(rows[0]!), [
          "entity_id",
          "name",
          "isin",
          "ticker",
          "country",
          "sector",
          "founded",
          "sentiment"
        ])
      }),
    300_000
  )
})
