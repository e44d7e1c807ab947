/**
 * The sandbox itself, over real sockets on 127.0.0.1: the token endpoint, the task endpoints, the file host
 * and fault injection. Time (token and URL expiry, task progress, slow bodies) is driven by `TestClock`:
 * the sandbox built inside a test reads the test's clock while its sockets stay real.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import { Credentials } from "effect-textreveal"
import { Sandbox } from "effect-textreveal/testing"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as http from "node:http"
import { gunzipSync } from "node:zlib"
import { eventually } from "./fixtures/eventually.js"

// ---- helpers

const csvHeader = "entity_id,name,isin,ticker,country,sector,founded,sentiment"

const withSandbox = (options?: Sandbox.Options) =>
<A, E, R>(
  effect: Effect.Effect<A, E, R>
) => Effect.provide(effect, Layer.merge(Sandbox.layer(options), FetchHttpClient.layer))

interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
}

/** Sends a request with the fetch `HttpClient` and reads the whole body as text. */
const send = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(request)
    return { status: response.status, headers: response.headers, text: yield* response.text } satisfies Reply
  })

/** The JSON body of a reply; a body that is not JSON fails the test. */
const jsonOf = (reply: Reply): unknown => JSON.parse(reply.text)

const grant = (sandbox: Sandbox.Service, overrides: Record<string, unknown> = {}) => ({
  grant_type: "password",
  username: sandbox.username,
  password: sandbox.password,
  audience: Credentials.defaultAudience,
  client_id: Credentials.defaultClientId,
  ...overrides
})

const postToken = (body: unknown) =>
  Effect.flatMap(
    Sandbox.Sandbox,
    (sandbox) => send(HttpClientRequest.post(sandbox.tokenUrl).pipe(HttpClientRequest.bodyUnsafeJson(body)))
  )

/** A token from the documented password grant. */
const getToken = Effect.gen(function*() {
  const sandbox = yield* Sandbox.Sandbox
  const reply = yield* postToken(grant(sandbox))
  assert.strictEqual(reply.status, 200)
  const body = jsonOf(reply) as { access_token: string }
  return body.access_token
})

/** `GET {baseUrl}{path}`, with a bearer token when given. */
const apiGet = (path: string, token?: string, headers: Record<string, string> = {}) =>
  Effect.flatMap(Sandbox.Sandbox, (sandbox) => {
    const request = HttpClientRequest.get(`${sandbox.baseUrl}${path}`).pipe(HttpClientRequest.setHeaders(headers))
    return send(token === undefined ? request : HttpClientRequest.bearerToken(request, token))
  })

/** Creates a task and gives its id and its signed URLs (from the download endpoint, with a fresh token). */
const taskWithUrls = (options?: Sandbox.TaskOptions) =>
  Effect.gen(function*() {
    const sandbox = yield* Sandbox.Sandbox
    const id = yield* sandbox.createTask(options)
    const reply = yield* apiGet(`/tasks/${id}/download`, yield* getToken)
    assert.strictEqual(reply.status, 200, reply.text)
    return { id, urls: jsonOf(reply) as Array<string> }
  })

interface RawReply {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
  /** Whether the whole body announced by the response arrived. */
  readonly complete: boolean
}

/**
 * A GET with `node:http`, on a connection of its own: the bytes exactly as sent (no decompression), and
 * whether the body was cut short.
 */
const rawGet = (url: string, headers: Record<string, string> = {}) =>
  Effect.async<RawReply>((resume) => {
    const chunks: Array<Buffer> = []
    let done = false
    const finish = (reply: RawReply) => {
      if (done) return
      done = true
      resume(Effect.succeed(reply))
    }
    const request = http.get(url, { headers, agent: false }, (response) => {
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      // A cut body is reported by `complete`, read on close.
      response.on("error", () => {})
      response.on("close", () =>
        finish({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks),
          complete: response.complete
        }))
    })
    request.on("error", (error) => {
      if (done) return
      done = true
      resume(Effect.die(error))
    })
    return Effect.sync(() => request.destroy())
  })

/** Parses CSV text (quoted fields with `""` escapes) into rows of fields. */
const parseCsv = (text: string): Array<Array<string>> => {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let field = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === "\"" && text[i + 1] === "\"") {
        field += "\""
        i++
      } else if (c === "\"") quoted = false
      else field += c
    } else if (c === "\"") quoted = true
    else if (c === ",") {
      row.push(field)
      field = ""
    } else if (c === "\n") {
      row.push(field)
      rows.push(row)
      row = []
      field = ""
    } else field += c
  }
  if (field !== "" || row.length > 0) rows.push([...row, field])
  return rows
}

/** The value of a query parameter of a URL. */
const param = (url: string, name: string) => new URL(url).searchParams.get(name)

/** The same URL with one query parameter replaced. */
const withParam = (url: string, name: string, value: string) => {
  const u = new URL(url)
  u.searchParams.set(name, value)
  return u.href
}

// ---- token endpoint

describe("Sandbox token endpoint", () => {
  it.effect("issues a bearer token for the documented password grant, valid on the API", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const reply = yield* postToken(grant(sandbox))
      assert.strictEqual(reply.status, 200)
      assert.match(reply.headers["content-type"] ?? "", /application\/json/)
      const body = jsonOf(reply) as Record<string, unknown>
      assert.deepStrictEqual(Object.keys(body).sort(), ["access_token", "expires_in", "token_type"])
      assert.strictEqual(body.expires_in, 86400)
      assert.strictEqual(body.token_type, "Bearer")
      assert.isString(body.access_token)
      assert.isAbove((body.access_token as string).length, 10)

      const api = yield* apiGet("/tasks", body.access_token as string)
      assert.strictEqual(api.status, 200)
    }).pipe(withSandbox()))

  it.effect("accepts the configured username and password, and expires_in follows tokenLifetime", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      assert.strictEqual(sandbox.username, "key-1")
      assert.strictEqual(sandbox.password, "secret-1")
      const reply = yield* postToken(grant(sandbox))
      assert.strictEqual(reply.status, 200)
      assert.strictEqual((jsonOf(reply) as { expires_in: number }).expires_in, 3600)
    }).pipe(withSandbox({ username: "key-1", password: "secret-1", tokenLifetime: "1 hour" })))

  it.effect("issues a different token for each grant", () =>
    Effect.gen(function*() {
      const first = yield* getToken
      const second = yield* getToken
      assert.notStrictEqual(first, second)
    }).pipe(withSandbox()))

  it.effect.each(
    [
      ["a wrong password", { password: "not-the-secret" }],
      ["a wrong username", { username: "someone-else" }]
    ] as const
  )("refuses %s with 403 and an OAuth error body", ([_, overrides]) =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const reply = yield* postToken(grant(sandbox, overrides))
      assert.strictEqual(reply.status, 403)
      const body = jsonOf(reply) as Record<string, unknown>
      assert.strictEqual(body.error, "invalid_grant")
      assert.isString(body.error_description)
      assert.isUndefined(body.access_token)
    }).pipe(withSandbox()))

  it.effect.each(
    [
      ["a wrong client_id", { client_id: "someone-elses-client" }],
      ["the audience without its trailing slash", { audience: "https://api.textreveal.com" }]
    ] as const
  )("refuses %s with 401 access_denied", ([_, overrides]) =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const reply = yield* postToken(grant(sandbox, overrides))
      assert.strictEqual(reply.status, 401)
      const body = jsonOf(reply) as Record<string, unknown>
      assert.strictEqual(body.error, "access_denied")
      assert.isUndefined(body.access_token)
    }).pipe(withSandbox()))

  it.effect("refuses a body that is not a password grant with 400 invalid_request", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      for (const body of [grant(sandbox, { grant_type: "client_credentials" }), { username: sandbox.username }]) {
        const reply = yield* postToken(body)
        assert.strictEqual(reply.status, 400)
        assert.strictEqual((jsonOf(reply) as { error: string }).error, "invalid_request")
      }
      const notJson = yield* send(
        HttpClientRequest.post(sandbox.tokenUrl).pipe(HttpClientRequest.bodyText("grant_type=password", "text/plain"))
      )
      assert.strictEqual(notJson.status, 400)
    }).pipe(withSandbox()))
})

// ---- bearer tokens on API calls

describe("Sandbox bearer tokens", () => {
  const unauthorized = { message: "invalid username or API key", code: 401, reason: "unauthorized" }

  it.effect("a call without a bearer token is 401 'Authorization header is expected'", () =>
    Effect.gen(function*() {
      for (const headers of [{}, { authorization: "Basic a2V5OnNlY3JldA==" }]) {
        const reply = yield* apiGet("/tasks", undefined, headers)
        assert.strictEqual(reply.status, 401)
        assert.deepStrictEqual(jsonOf(reply), {
          message: "Authorization header is expected",
          code: 401,
          reason: "unauthorized"
        })
      }
    }).pipe(withSandbox()))

  it.effect("an unknown token is 401 with the documented body", () =>
    Effect.gen(function*() {
      const reply = yield* apiGet("/tasks", "sbx.not-a-token-it-issued")
      assert.strictEqual(reply.status, 401)
      assert.match(reply.headers["content-type"] ?? "", /application\/json/)
      assert.deepStrictEqual(jsonOf(reply), unauthorized)
    }).pipe(withSandbox()))

  it.effect("expireTokens makes every issued token 401; a new grant works again", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const first = yield* getToken
      const second = yield* getToken
      assert.strictEqual((yield* apiGet("/tasks", first)).status, 200)
      yield* sandbox.expireTokens
      for (const token of [first, second]) {
        const reply = yield* apiGet("/tasks", token)
        assert.strictEqual(reply.status, 401)
        assert.deepStrictEqual(jsonOf(reply), unauthorized)
      }
      assert.strictEqual((yield* apiGet("/tasks", yield* getToken)).status, 200)
    }).pipe(withSandbox()))

  it.effect("a token expires after tokenLifetime, by TestClock", () =>
    Effect.gen(function*() {
      const token = yield* getToken
      yield* TestClock.adjust(Duration.millis(59_999))
      assert.strictEqual((yield* apiGet("/tasks", token)).status, 200)
      yield* TestClock.adjust(Duration.millis(1))
      const reply = yield* apiGet("/tasks", token)
      assert.strictEqual(reply.status, 401)
      assert.deepStrictEqual(jsonOf(reply), unauthorized)
    }).pipe(withSandbox({ tokenLifetime: "1 minute" })))

  it.effect("rejectedTokenStatus: 403 answers expired and unknown tokens with the documented 403", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      assert.strictEqual((yield* apiGet("/tasks", token)).status, 200)
      yield* sandbox.expireTokens
      for (const t of [token, "sbx.unknown"]) {
        const reply = yield* apiGet("/tasks", t)
        assert.strictEqual(reply.status, 403)
        assert.deepStrictEqual(jsonOf(reply), {
          message: "Not authorized to access this resource",
          code: 403,
          reason: "forbidden"
        })
      }
    }).pipe(withSandbox({ rejectedTokenStatus: 403 })))
})

// ---- download endpoint

describe("Sandbox GET /v3/tasks/{id}/download", () => {
  it.effect("answers a bare array of signed URLs, one per file, in order, valid 5 minutes", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      yield* TestClock.setTime(1_700_000_000_000)
      const { id, urls } = yield* taskWithUrls({
        files: [{ name: "c.csv", rows: 1 }, { name: "a.csv", rows: 1 }, { name: "b.csv", rows: 1 }]
      })
      const origin = new URL(sandbox.baseUrl).origin
      assert.deepStrictEqual(
        urls.map((u) => new URL(u).origin + new URL(u).pathname),
        ["c.csv", "a.csv", "b.csv"].map((name) => `${origin}/files/exports/task=${id}/${name}`)
      )
      for (const url of urls) {
        assert.strictEqual(param(url, "expires"), String(1_700_000_000_000 + 5 * 60_000))
        assert.match(param(url, "signature") ?? "", /^[0-9a-f]{64}$/)
      }
    }).pipe(withSandbox()))

  it.effect("a default task has two files, <id>.csv and <id>-2.csv", () =>
    Effect.gen(function*() {
      const { id, urls } = yield* taskWithUrls()
      assert.deepStrictEqual(urls.map((u) => new URL(u).pathname.split("/").pop()), [`${id}.csv`, `${id}-2.csv`])
    }).pipe(withSandbox()))

  it.effect("a file name is percent-encoded in its URL and served under it", () =>
    Effect.gen(function*() {
      const { urls } = yield* taskWithUrls({ files: [{ name: "entities 2024 #1.csv", rows: 3 }] })
      const url = urls[0]!
      assert.strictEqual(new URL(url).pathname.split("/").pop(), "entities%202024%20%231.csv")
      const reply = yield* rawGet(url)
      assert.strictEqual(reply.status, 200)
      assert.strictEqual(parseCsv(reply.body.toString("latin1")).length, 4)
    }).pipe(withSandbox()))

  it.effect("urlValidity sets the expiry of the URLs", () =>
    Effect.gen(function*() {
      const { urls } = yield* taskWithUrls()
      assert.strictEqual(param(urls[0]!, "expires"), String(60_000))
    }).pipe(withSandbox({ urlValidity: "1 minute" })))

  it.effect("404 for an unknown task", () =>
    Effect.gen(function*() {
      const reply = yield* apiGet("/tasks/f47ac10b-58cc-4372-a567-0e02b2c3d479/download", yield* getToken)
      assert.strictEqual(reply.status, 404)
      assert.deepStrictEqual(jsonOf(reply), {
        message: "The requested task does not exist or is not visible to you.",
        code: 404,
        reason: "not_found"
      })
    }).pipe(withSandbox()))

  it.effect("400 for a task id that is not a UUID, with a field error on task_id", () =>
    Effect.gen(function*() {
      const reply = yield* apiGet("/tasks/not-a-uuid/download", yield* getToken)
      assert.strictEqual(reply.status, 400)
      const body = jsonOf(reply) as { code: number; reason: string; errors: Array<Record<string, string>> }
      assert.strictEqual(body.code, 400)
      assert.strictEqual(body.reason, "invalid")
      assert.strictEqual(body.errors.length, 1)
      assert.strictEqual(body.errors[0]!.field, "task_id")
      assert.isString(body.errors[0]!.message)
      assert.isString(body.errors[0]!.reason)
    }).pipe(withSandbox()))

  it.effect("403 for a task of another account (accessible: false)", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const id = yield* sandbox.createTask({ accessible: false })
      const reply = yield* apiGet(`/tasks/${id}/download`, yield* getToken)
      assert.strictEqual(reply.status, 403)
      assert.deepStrictEqual(jsonOf(reply), {
        message: "Not authorized to access this resource",
        code: 403,
        reason: "forbidden"
      })
    }).pipe(withSandbox()))

  it.effect("400 for a failed task", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const id = yield* sandbox.createTask({ outcome: "failed" })
      const reply = yield* apiGet(`/tasks/${id}/download`, yield* getToken)
      assert.strictEqual(reply.status, 400)
      assert.deepStrictEqual(jsonOf(reply), {
        message: "An error occured while processing the task.",
        code: 400,
        reason: "internal"
      })
    }).pipe(withSandbox()))

  it.effect("400 while the task is still running, 200 once it has completed", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      const id = yield* sandbox.createTask({ startingFor: "10 seconds", runningFor: "1 minute" })
      for (const step of [Duration.zero, Duration.seconds(30)]) {
        yield* TestClock.adjust(step)
        const reply = yield* apiGet(`/tasks/${id}/download`, token)
        assert.strictEqual(reply.status, 400)
        const body = jsonOf(reply) as { code: number; reason: string }
        assert.strictEqual(body.code, 400)
        assert.strictEqual(body.reason, "invalid")
      }
      yield* TestClock.adjust("40 seconds")
      assert.strictEqual((yield* apiGet(`/tasks/${id}/download`, token)).status, 200)
    }).pipe(withSandbox()))
})

// ---- status endpoint

describe("Sandbox GET /v3/tasks/{id}/status", () => {
  const statusAt = (id: string, token: string) =>
    Effect.map(apiGet(`/tasks/${id}/status`, token), (reply) => {
      assert.strictEqual(reply.status, 200, reply.text)
      return (jsonOf(reply) as { status: string }).status
    })

  it.effect("moves starting -> running -> completed after startingFor and runningFor", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      const id = yield* sandbox.createTask({ startingFor: "10 seconds", runningFor: "20 seconds" })
      const seen: Array<string> = []
      for (const step of [0, 9_999, 1, 19_998, 1, 1]) {
        yield* TestClock.adjust(Duration.millis(step))
        seen.push(yield* statusAt(id, token))
      }
      assert.deepStrictEqual(seen, ["starting", "starting", "running", "running", "running", "completed"])
      const reply = yield* apiGet(`/tasks/${id}/status`, token)
      assert.deepStrictEqual(jsonOf(reply), { status: "completed" })
    }).pipe(withSandbox()))

  it.effect("a failing task ends failed", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      const id = yield* sandbox.createTask({ outcome: "failed", runningFor: "5 seconds" })
      assert.strictEqual(yield* statusAt(id, token), "running")
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual(yield* statusAt(id, token), "failed")
    }).pipe(withSandbox()))

  it.effect("a default task is completed at once", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      assert.strictEqual(yield* statusAt(yield* sandbox.createTask(), yield* getToken), "completed")
    }).pipe(withSandbox()))

  it.effect("404, 400 and 403 as for the download endpoint", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      const hidden = yield* sandbox.createTask({ accessible: false })
      const statuses: Array<number> = []
      for (const id of ["f47ac10b-58cc-4372-a567-0e02b2c3d479", "nope", hidden]) {
        const reply = yield* apiGet(`/tasks/${id}/status`, token)
        assert.strictEqual((jsonOf(reply) as { code: number }).code, reply.status)
        statuses.push(reply.status)
      }
      assert.deepStrictEqual(statuses, [404, 400, 403])
    }).pipe(withSandbox()))
})

// ---- task list

describe("Sandbox GET /v3/tasks", () => {
  interface Page {
    readonly data: ReadonlyArray<Record<string, unknown>>
    readonly size: number
    readonly has_next: boolean
    readonly count: number
    readonly search_after: string | null
  }

  const list = (query: string, token: string) =>
    Effect.map(apiGet(`/tasks${query}`, token), (reply) => {
      assert.strictEqual(reply.status, 200, reply.text)
      return jsonOf(reply) as Page
    })

  it.effect("pages through every visible task with size and search_after, newest first", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      const ids: Array<string> = []
      for (let i = 0; i < 5; i++) {
        ids.push(yield* sandbox.createTask())
        if (i === 2) yield* sandbox.createTask({ accessible: false })
      }
      const pages: Array<Page> = []
      let cursor: string | null = null
      do {
        const page: Page = yield* list(`?size=2${cursor === null ? "" : `&search_after=${cursor}`}`, token)
        pages.push(page)
        cursor = page.search_after
      } while (cursor !== null && pages.length < 10)
      assert.deepStrictEqual(pages.map((p) => p.data.map((t) => t.id)), [
        [ids[4], ids[3]],
        [ids[2], ids[1]],
        [ids[0]]
      ])
      assert.deepStrictEqual(pages.map((p) => p.has_next), [true, true, false])
      assert.deepStrictEqual(pages.map((p) => p.size), [2, 2, 1])
      assert.deepStrictEqual(pages.map((p) => p.count), [5, 5, 5])
      assert.isNull(pages[2]!.search_after)
    }).pipe(withSandbox()))

  it.effect("a last page that is full has has_next false and no search_after", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      for (let i = 0; i < 4; i++) yield* sandbox.createTask({ files: [] })
      const first = yield* list("?size=2", token)
      assert.isTrue(first.has_next)
      const last = yield* list(`?size=2&search_after=${first.search_after}`, token)
      assert.strictEqual(last.data.length, 2)
      assert.isFalse(last.has_next)
      assert.isNull(last.search_after)
    }).pipe(withSandbox()))

  it.effect("order=created_at:asc lists oldest first", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      const ids = [yield* sandbox.createTask(), yield* sandbox.createTask(), yield* sandbox.createTask()]
      const first = yield* list("?order=created_at:asc&size=2", token)
      const second = yield* list(`?order=created_at:asc&size=2&search_after=${first.search_after}`, token)
      assert.deepStrictEqual([...first.data, ...second.data].map((t) => t.id), ids)
      assert.isFalse(second.has_next)
    }).pipe(withSandbox()))

  it.effect("size defaults to 10; 1 and 1000 are accepted", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      for (let i = 0; i < 12; i++) yield* sandbox.createTask({ files: [] })
      const page = yield* list("", token)
      assert.strictEqual(page.data.length, 10)
      assert.strictEqual(page.size, 10)
      assert.isTrue(page.has_next)
      assert.strictEqual(page.count, 12)
      assert.strictEqual((yield* list("?size=1", token)).data.length, 1)
      const all = yield* list("?size=1000", token)
      assert.strictEqual(all.data.length, 12)
      assert.isFalse(all.has_next)
      assert.isNull(all.search_after)
    }).pipe(withSandbox()))

  it.effect.each([
    ["0", "too_small"],
    ["1001", "too_big"],
    ["-1", ".+"],
    ["ten", "invalid_type"]
  ])("size=%s is refused with 400 and a field error on size", ([size, reason]) =>
    Effect.gen(function*() {
      const reply = yield* apiGet(`/tasks?size=${size}`, yield* getToken)
      assert.strictEqual(reply.status, 400)
      const body = jsonOf(reply) as { code: number; reason: string; errors: Array<Record<string, string>> }
      assert.strictEqual(body.code, 400)
      assert.strictEqual(body.reason, "invalid")
      assert.strictEqual(body.errors.length, 1)
      assert.strictEqual(body.errors[0]!.field, "size")
      assert.match(body.errors[0]!.reason!, new RegExp(`^(${reason})$`))
      if (size === "ten") assert.strictEqual(body.errors[0]!.message, "Expected number, received string")
    }).pipe(withSandbox()))

  it.effect("a task has the documented fields; completed_at is null until it is done", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      yield* TestClock.setTime(Date.parse("2024-05-01T12:00:00.000Z"))
      const token = yield* getToken
      const done = yield* sandbox.createTask({ description: "Entities of universe 42" })
      const running = yield* sandbox.createTask({ startingFor: "1 second", runningFor: "1 minute" })
      const page = yield* list("", token)
      const byId = new Map(page.data.map((t) => [t.id, t]))
      assert.deepStrictEqual(byId.get(done), {
        id: done,
        status: "completed",
        description: "Entities of universe 42",
        type: "export",
        created_at: "2024-05-01T12:00:00.000Z",
        completed_at: "2024-05-01T12:00:00.000Z"
      })
      assert.strictEqual(byId.get(running)!.status, "starting")
      assert.isNull(byId.get(running)!.completed_at)
      yield* TestClock.adjust("61 seconds")
      const later = new Map((yield* list("", token)).data.map((t) => [t.id, t]))
      assert.strictEqual(later.get(running)!.status, "completed")
      assert.strictEqual(later.get(running)!.completed_at, "2024-05-01T12:01:01.000Z")
    }).pipe(withSandbox()))

  it.effect("fields keeps only the fields asked for (comma-separated or repeated)", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      yield* sandbox.createTask()
      for (
        const [query, keys] of [
          ["?fields=id,status", ["id", "status"]],
          ["?fields=id&fields=created_at", ["created_at", "id"]],
          ["?fields=description", ["description", "id"]]
        ] as const
      ) {
        const page = yield* list(query, token)
        assert.strictEqual(page.data.length, 1)
        assert.deepStrictEqual(Object.keys(page.data[0]!).sort(), [...keys])
      }
      const refused = yield* apiGet("/tasks?fields=id,owner", token)
      assert.strictEqual(refused.status, 400)
      const body = jsonOf(refused) as { errors: Array<{ field: string }> }
      assert.deepStrictEqual(body.errors.map((e) => e.field), ["fields"])
    }).pipe(withSandbox()))
})

// ---- file host

describe("Sandbox file host", () => {
  it.effect("serves the CSV with the documented header and the given number of rows", () =>
    Effect.gen(function*() {
      const { urls } = yield* taskWithUrls({ files: [{ rows: 600 }, { rows: 0 }] })
      const reply = yield* rawGet(urls[0]!)
      assert.strictEqual(reply.status, 200)
      assert.match(reply.headers["content-type"] ?? "", /^text\/csv/)
      assert.strictEqual(reply.headers["content-length"], String(reply.body.length))
      assert.match(reply.headers["etag"] ?? "", /^".+"$/)
      const text = reply.body.toString("latin1")
      assert.isTrue(text.startsWith(`${csvHeader}\n`))
      assert.isTrue(text.endsWith("\n"))
      const rows = parseCsv(text)
      assert.strictEqual(rows.length, 601)
      assert.deepStrictEqual(rows[0], csvHeader.split(","))
      for (const row of rows.slice(1)) {
        assert.strictEqual(row.length, 8, row.join("|"))
        assert.match(row[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
        assert.match(row[2]!, /^[A-Z]{2}\d{10}$/)
        assert.strictEqual(row[2]!.slice(0, 2), row[4])
      }
      // The quoting is exercised: names with commas and quotes come back whole.
      assert.isTrue(rows.some((row) => row[1]!.includes(",")))
      assert.isTrue(rows.some((row) => row[1]!.includes("\"")))

      const empty = yield* rawGet(urls[1]!)
      assert.strictEqual(empty.status, 200)
      assert.strictEqual(empty.body.toString("latin1"), `${csvHeader}\n`)
      assert.strictEqual(empty.headers["content-length"], String(csvHeader.length + 1))
    }).pipe(withSandbox()))

  it.effect("the same file gives the same bytes on every request; another task's file differs", () =>
    Effect.gen(function*() {
      const first = yield* taskWithUrls({ files: [{ rows: 300 }] })
      const other = yield* taskWithUrls({ files: [{ rows: 300 }] })
      const a = yield* rawGet(first.urls[0]!)
      const b = yield* rawGet(first.urls[0]!)
      const c = yield* rawGet(other.urls[0]!)
      assert.isTrue(a.body.equals(b.body))
      assert.strictEqual(a.headers["etag"], b.headers["etag"])
      assert.isFalse(a.body.equals(c.body))
      assert.notStrictEqual(a.headers["etag"], c.headers["etag"])
    }).pipe(withSandbox()))

  it.effect("needs no token: a signed URL is served to a plain GET", () =>
    Effect.gen(function*() {
      const { urls } = yield* taskWithUrls({ files: [{ rows: 5 }] })
      const reply = yield* send(HttpClientRequest.get(urls[0]!))
      assert.strictEqual(reply.status, 200)
      assert.strictEqual(parseCsv(reply.text).length, 6)
    }).pipe(withSandbox()))

  it.effect("refuses an altered URL with 403 SignatureDoesNotMatch, as cloud storage does", () =>
    Effect.gen(function*() {
      const { urls } = yield* taskWithUrls({ files: [{ name: "a.csv", rows: 5 }, { name: "b.csv", rows: 5 }] })
      const url = urls[0]!
      const signature = param(url, "signature")!
      const flipped = `${signature.slice(0, -1)}${signature.endsWith("0") ? "1" : "0"}`
      const later = String(Number(param(url, "expires")) + 3_600_000)
      const variants = [
        withParam(url, "signature", flipped),
        withParam(url, "expires", later),
        withParam(url, "signature", param(urls[1]!, "signature")!),
        url.replace("/a.csv", "/b.csv"),
        url.replace(/&?signature=[0-9a-f]+/, ""),
        url.replace(/expires=\d+&?/, "")
      ]
      for (const altered of variants) {
        const reply = yield* rawGet(altered)
        assert.strictEqual(reply.status, 403, altered)
        assert.match(reply.headers["content-type"] ?? "", /application\/xml/)
        const body = reply.body.toString("utf8")
        assert.match(body, /^<\?xml/)
        assert.include(body, "<Code>SignatureDoesNotMatch</Code>")
      }
      assert.strictEqual((yield* rawGet(url)).status, 200)
    }).pipe(withSandbox()))

  it.effect("enforces the 5-minute expiry by Clock: 403 AccessDenied 'Request has expired'", () =>
    Effect.gen(function*() {
      const { urls } = yield* taskWithUrls({ files: [{ rows: 5 }] })
      yield* TestClock.adjust(Duration.millis(5 * 60_000 - 1))
      assert.strictEqual((yield* rawGet(urls[0]!)).status, 200)
      yield* TestClock.adjust(Duration.millis(1))
      const reply = yield* rawGet(urls[0]!)
      assert.strictEqual(reply.status, 403)
      assert.match(reply.headers["content-type"] ?? "", /application\/xml/)
      const body = reply.body.toString("utf8")
      assert.include(body, "<Code>AccessDenied</Code>")
      assert.include(body, "<Message>Request has expired</Message>")
    }).pipe(withSandbox()))

  describe("Range", () => {
    // 3000 rows: several 64 KiB chunks of generation and many 256-row cycles of the generator.
    const rows = 3000

    const fullFile = Effect.gen(function*() {
      const { urls } = yield* taskWithUrls({ files: [{ rows }] })
      const url = urls[0]!
      const full = yield* rawGet(url)
      assert.strictEqual(full.status, 200)
      assert.strictEqual(full.headers["accept-ranges"], "bytes")
      return { url, full: full.body, etag: full.headers["etag"]! }
    })

    it.effect("answers bytes=a-b, a- and -n with 206 and exactly those bytes of the full body", () =>
      Effect.gen(function*() {
        const { full, url } = yield* fullFile
        const size = full.length
        assert.isAbove(size, 3 * 65536)
        const cases: Array<readonly [string, number, number]> = [
          ["bytes=0-0", 0, 0],
          ["bytes=0-99", 0, 99],
          ["bytes=55-65", 55, 65], // across the end of the header
          ["bytes=1000-70000", 1000, 70000], // across a 64 KiB chunk
          ["bytes=65535-65536", 65535, 65536],
          ["bytes=25000-25300", 25000, 25300], // within the second cycle of rows
          [`bytes=${size - 1}-${size - 1}`, size - 1, size - 1],
          ["bytes=100-", 100, size - 1],
          [`bytes=${size - 10}-`, size - 10, size - 1],
          ["bytes=-1", size - 1, size - 1],
          ["bytes=-70000", size - 70000, size - 1],
          [`bytes=5-${size + 1000}`, 5, size - 1], // an end past the file is clamped
          [`bytes=-${size + 1000}`, 0, size - 1] // a suffix longer than the file is the whole file
        ]
        for (const [range, start, end] of cases) {
          const reply = yield* rawGet(url, { range })
          assert.strictEqual(reply.status, 206, range)
          assert.strictEqual(reply.headers["content-range"], `bytes ${start}-${end}/${size}`, range)
          assert.strictEqual(reply.headers["content-length"], String(end + 1 - start), range)
          assert.isTrue(reply.body.equals(full.subarray(start, end + 1)), `${range}: bytes differ`)
        }
      }).pipe(withSandbox()))

    it.effect("416 with Content-Range bytes */size for an unsatisfiable range", () =>
      Effect.gen(function*() {
        const { full, url } = yield* fullFile
        const size = full.length
        for (const range of [`bytes=${size}-`, `bytes=${size + 10}-${size + 20}`, "bytes=-0"]) {
          const reply = yield* rawGet(url, { range })
          assert.strictEqual(reply.status, 416, range)
          assert.strictEqual(reply.headers["content-range"], `bytes */${size}`, range)
          assert.strictEqual(reply.body.length, 0)
        }
      }).pipe(withSandbox()))

    it.effect("an invalid range (last byte before the first) is ignored: the whole file, 200", () =>
      Effect.gen(function*() {
        const { full, url } = yield* fullFile
        const reply = yield* rawGet(url, { range: "bytes=5-2" })
        assert.strictEqual(reply.status, 200)
        assert.isUndefined(reply.headers["content-range"])
        assert.isTrue(reply.body.equals(full))
      }).pipe(withSandbox()))

    it.effect("If-Range: the current ETag gets the range (206), a stale one the whole file (200)", () =>
      Effect.gen(function*() {
        const { etag, full, url } = yield* fullFile
        const matching = yield* rawGet(url, { range: "bytes=10-19", "if-range": etag })
        assert.strictEqual(matching.status, 206)
        assert.isTrue(matching.body.equals(full.subarray(10, 20)))

        const stale = yield* rawGet(url, { range: "bytes=10-19", "if-range": "\"0-0\"" })
        assert.strictEqual(stale.status, 200)
        assert.isUndefined(stale.headers["content-range"])
        assert.strictEqual(stale.headers["content-length"], String(full.length))
        assert.isTrue(stale.body.equals(full))
      }).pipe(withSandbox()))
  })

  describe("gzip", () => {
    it.effect("a gzip task is sent gzip-encoded to a client that accepts it, and decodes to the plain body", () =>
      Effect.gen(function*() {
        const { urls } = yield* taskWithUrls({ gzip: true, files: [{ rows: 2000 }] })
        const plain = yield* rawGet(urls[0]!)
        assert.strictEqual(plain.status, 200)
        assert.isUndefined(plain.headers["content-encoding"])
        assert.strictEqual(plain.headers["content-length"], String(plain.body.length))

        const gzipped = yield* rawGet(urls[0]!, { "accept-encoding": "gzip, deflate" })
        assert.strictEqual(gzipped.status, 200)
        assert.strictEqual(gzipped.headers["content-encoding"], "gzip")
        assert.strictEqual(gzipped.headers["etag"], plain.headers["etag"])
        assert.isTrue(gzipped.complete)
        assert.isBelow(gzipped.body.length, plain.body.length)
        assert.isTrue(gunzipSync(gzipped.body).equals(plain.body))
      }).pipe(withSandbox()))

    it.effect("gzip refused with q=0 is not used", () =>
      Effect.gen(function*() {
        const { urls } = yield* taskWithUrls({ gzip: true, files: [{ rows: 50 }] })
        for (const acceptEncoding of ["gzip;q=0", "identity, gzip; q=0"]) {
          const reply = yield* rawGet(urls[0]!, { "accept-encoding": acceptEncoding })
          assert.isUndefined(reply.headers["content-encoding"], acceptEncoding)
          assert.isTrue(reply.body.toString("latin1").startsWith(csvHeader), acceptEncoding)
        }
      }).pipe(withSandbox()))

    it.effect("a task without gzip ignores Accept-Encoding", () =>
      Effect.gen(function*() {
        const { urls } = yield* taskWithUrls({ files: [{ rows: 50 }] })
        const reply = yield* rawGet(urls[0]!, { "accept-encoding": "gzip" })
        assert.isUndefined(reply.headers["content-encoding"])
        assert.isTrue(reply.body.toString("latin1").startsWith(csvHeader))
      }).pipe(withSandbox()))
  })
})

// ---- request log

describe("Sandbox request log", () => {
  it.effect("records route, method, url, status, authorization, range and fault of each request", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      const id = yield* sandbox.createTask({ files: [{ rows: 10 }] })
      yield* apiGet(`/tasks/${id}/status`, token)
      yield* apiGet("/tasks?size=5", token)
      yield* sandbox.injectFault("download", Sandbox.Fault.TooManyRequests({}))
      yield* apiGet(`/tasks/${id}/download`, token)
      const refused = yield* apiGet(`/tasks/${id}/download`)
      assert.strictEqual(refused.status, 401)
      const signed = jsonOf(yield* apiGet(`/tasks/${id}/download`, token)) as Array<string>
      yield* rawGet(signed[0]!, { range: "bytes=0-9" })
      yield* apiGet("/nowhere", token)

      const file = new URL(signed[0]!)
      const entry = (
        route: Sandbox.RecordedRequest["route"],
        method: string,
        url: string,
        status: number,
        authorization: boolean,
        range?: string,
        fault?: Sandbox.Fault["_tag"]
      ): Sandbox.RecordedRequest => ({ route, method, url, status, authorization, range, fault })
      assert.deepStrictEqual(yield* sandbox.requests, [
        entry("token", "POST", "/oauth/token", 200, false),
        entry("status", "GET", `/v3/tasks/${id}/status`, 200, true),
        entry("tasks", "GET", "/v3/tasks?size=5", 200, true),
        entry("download", "GET", `/v3/tasks/${id}/download`, 429, true, undefined, "TooManyRequests"),
        entry("download", "GET", `/v3/tasks/${id}/download`, 401, false),
        entry("download", "GET", `/v3/tasks/${id}/download`, 200, true),
        entry("file", "GET", file.pathname + file.search, 206, false, "bytes=0-9"),
        entry("unknown", "GET", "/v3/nowhere", 404, true)
      ])
    }).pipe(withSandbox()))

  it.effect("never records the token or the password", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      yield* apiGet("/tasks", token)
      const logged = JSON.stringify(yield* sandbox.requests)
      assert.notInclude(logged, token)
      assert.notInclude(logged, sandbox.password)
    }).pipe(withSandbox()))

  it.effect("clearRequests forgets what was received; later requests are recorded again", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      yield* apiGet("/tasks", token)
      assert.strictEqual((yield* sandbox.requests).length, 2)
      yield* sandbox.clearRequests
      assert.deepStrictEqual(yield* sandbox.requests, [])
      yield* apiGet("/tasks?size=1", token)
      assert.deepStrictEqual((yield* sandbox.requests).map((r) => r.url), ["/v3/tasks?size=1"])
    }).pipe(withSandbox()))
})

// ---- faults

describe("Sandbox faults", () => {
  const tooMany = { message: "You have too many exports in progress.", code: 429, reason: "too_many_requests" }

  /** A completed task and a token, ready for download calls. */
  const ready = Effect.gen(function*() {
    const sandbox = yield* Sandbox.Sandbox
    const id = yield* sandbox.createTask({ files: [{ rows: 100 }] })
    const token = yield* getToken
    return { sandbox, id, token, download: apiGet(`/tasks/${id}/download`, token) }
  })

  it.effect("TooManyRequests without retryAfter: the documented 429, no Retry-After; then normal again", () =>
    Effect.gen(function*() {
      const { download, sandbox } = yield* ready
      yield* sandbox.injectFault("download", Sandbox.Fault.TooManyRequests({}))
      const reply = yield* download
      assert.strictEqual(reply.status, 429)
      assert.isUndefined(reply.headers["retry-after"])
      assert.deepStrictEqual(jsonOf(reply), tooMany)
      assert.strictEqual((yield* download).status, 200)
    }).pipe(withSandbox()))

  it.effect("TooManyRequests with retryAfter: seconds, or a string sent as is", () =>
    Effect.gen(function*() {
      const { download, sandbox } = yield* ready
      yield* sandbox.injectFault("download", Sandbox.Fault.TooManyRequests({ retryAfter: 3 }))
      yield* sandbox.injectFault(
        "download",
        Sandbox.Fault.TooManyRequests({ retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT" })
      )
      const first = yield* download
      assert.strictEqual(first.status, 429)
      assert.strictEqual(first.headers["retry-after"], "3")
      assert.deepStrictEqual(jsonOf(first), tooMany)
      const second = yield* download
      assert.strictEqual(second.status, 429)
      assert.strictEqual(second.headers["retry-after"], "Wed, 21 Oct 2015 07:28:00 GMT")
    }).pipe(withSandbox()))

  it.effect.each([500, 502, 503, 504] as const)(
    "ServerError %s as the documented JSON body",
    (status) =>
      Effect.gen(function*() {
        const { download, sandbox } = yield* ready
        yield* sandbox.injectFault("download", Sandbox.Fault.ServerError({ status }))
        const reply = yield* download
        assert.strictEqual(reply.status, status)
        assert.match(reply.headers["content-type"] ?? "", /application\/json/)
        const body = jsonOf(reply) as { code: number; reason: string; message: string }
        assert.strictEqual(body.code, status)
        assert.strictEqual(body.reason, "internal")
        assert.isString(body.message)
      }).pipe(withSandbox())
  )

  it.effect("ServerError defaults to 500", () =>
    Effect.gen(function*() {
      const { download, sandbox } = yield* ready
      yield* sandbox.injectFault("download", Sandbox.Fault.ServerError({}))
      assert.strictEqual((yield* download).status, 500)
    }).pipe(withSandbox()))

  it.effect("ServerError html: an HTML error page as a proxy sends", () =>
    Effect.gen(function*() {
      const { download, sandbox } = yield* ready
      yield* sandbox.injectFault("download", Sandbox.Fault.ServerError({ status: 502, html: true }))
      const reply = yield* download
      assert.strictEqual(reply.status, 502)
      assert.match(reply.headers["content-type"] ?? "", /text\/html/)
      assert.include(reply.text, "<title>502 Bad Gateway</title>")
      assert.throws(() => JSON.parse(reply.text))
    }).pipe(withSandbox()))

  it.effect("DropConnection on a file: Content-Length of the whole file, then only afterBytes bytes", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const { urls } = yield* taskWithUrls({ files: [{ rows: 1000 }] })
      const full = yield* rawGet(urls[0]!)
      yield* sandbox.injectFault("file", Sandbox.Fault.DropConnection({ afterBytes: 1234 }))
      const cut = yield* rawGet(urls[0]!)
      assert.strictEqual(cut.status, 200)
      assert.strictEqual(cut.headers["content-length"], String(full.body.length))
      assert.isFalse(cut.complete)
      assert.strictEqual(cut.body.length, 1234)
      assert.isTrue(cut.body.equals(full.body.subarray(0, 1234)))
      assert.strictEqual((yield* sandbox.requests).at(-1)!.fault, "DropConnection")
      assert.isTrue((yield* rawGet(urls[0]!)).complete)
    }).pipe(withSandbox()))

  it.effect("DropConnection on the API: the client's read of the body fails", () =>
    Effect.gen(function*() {
      const { id, sandbox, token } = yield* ready
      yield* sandbox.injectFault("download", Sandbox.Fault.DropConnection({ afterBytes: 10 }))
      const client = yield* HttpClient.HttpClient
      const response = yield* client.execute(
        HttpClientRequest.get(`${sandbox.baseUrl}/tasks/${id}/download`).pipe(HttpClientRequest.bearerToken(token))
      )
      assert.strictEqual(response.status, 200)
      const read = yield* Effect.flip(response.text)
      assert.strictEqual(read._tag, "ResponseError")
    }).pipe(withSandbox()))

  it.effect("SlowBody: the whole body, in chunkSize pieces, one per delay (by TestClock)", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const { urls } = yield* taskWithUrls({ files: [{ rows: 100 }] })
      const full = yield* rawGet(urls[0]!)
      yield* sandbox.injectFault("file", Sandbox.Fault.SlowBody({ delay: "1 second", chunkSize: 1000 }))
      const fiber = yield* Effect.fork(rawGet(urls[0]!))
      let ticks = 0
      while (true) {
        yield* eventually(
          Effect.zipWith(
            TestClock.sleeps(),
            Fiber.poll(fiber),
            (sleeps, done) => sleeps.length > 0 || Option.isSome(done)
          ),
          "the slow body sleeps or ends"
        )
        if (Option.isSome(yield* Fiber.poll(fiber))) break
        assert.isBelow(ticks, 100)
        yield* TestClock.adjust("1 second")
        ticks++
      }
      const slow = yield* Fiber.join(fiber)
      assert.strictEqual(ticks, Math.ceil(full.body.length / 1000))
      assert.isTrue(slow.complete)
      assert.isTrue(slow.body.equals(full.body))
      assert.strictEqual(slow.headers["content-length"], String(full.body.length))
    }).pipe(withSandbox()))

  it.effect("MalformedJson: 200 with a JSON body that does not parse", () =>
    Effect.gen(function*() {
      const { download, sandbox } = yield* ready
      yield* sandbox.injectFault("download", Sandbox.Fault.MalformedJson())
      const reply = yield* download
      assert.strictEqual(reply.status, 200)
      assert.match(reply.headers["content-type"] ?? "", /application\/json/)
      assert.throws(() => JSON.parse(reply.text))
    }).pipe(withSandbox()))

  it.effect("WrongShape: 200 with valid JSON that is not an array of URLs", () =>
    Effect.gen(function*() {
      const { download, sandbox } = yield* ready
      yield* sandbox.injectFault("download", Sandbox.Fault.WrongShape())
      const reply = yield* download
      assert.strictEqual(reply.status, 200)
      const body = jsonOf(reply)
      assert.isFalse(Array.isArray(body))
      assert.isObject(body)
    }).pipe(withSandbox()))

  it.effect("ExpireEarly: URLs that expire at once by default; the next answer is normal again", () =>
    Effect.gen(function*() {
      const { download, sandbox } = yield* ready
      yield* TestClock.setTime(1_000_000)
      yield* sandbox.injectFault("download", Sandbox.Fault.ExpireEarly({}))
      const early = jsonOf(yield* download) as Array<string>
      assert.strictEqual(param(early[0]!, "expires"), "1000000")
      const refused = yield* rawGet(early[0]!)
      assert.strictEqual(refused.status, 403)
      assert.include(refused.body.toString("utf8"), "Request has expired")

      const normal = jsonOf(yield* download) as Array<string>
      assert.strictEqual(param(normal[0]!, "expires"), String(1_000_000 + 5 * 60_000))
      assert.strictEqual((yield* rawGet(normal[0]!)).status, 200)
    }).pipe(withSandbox()))

  it.effect("ExpireEarly after: URLs valid for the given time only", () =>
    Effect.gen(function*() {
      const { download, sandbox } = yield* ready
      yield* sandbox.injectFault("download", Sandbox.Fault.ExpireEarly({ after: "1 minute" }))
      const urls = jsonOf(yield* download) as Array<string>
      yield* TestClock.adjust(Duration.millis(59_999))
      assert.strictEqual((yield* rawGet(urls[0]!)).status, 200)
      yield* TestClock.adjust(Duration.millis(1))
      assert.strictEqual((yield* rawGet(urls[0]!)).status, 403)
    }).pipe(withSandbox()))

  it.effect("times: the next N requests of the route only; other routes are untouched", () =>
    Effect.gen(function*() {
      const { download, id, sandbox, token } = yield* ready
      yield* sandbox.injectFault("download", Sandbox.Fault.ServerError({ status: 503 }), { times: 2 })
      assert.strictEqual((yield* apiGet(`/tasks/${id}/status`, token)).status, 200)
      const statuses: Array<number> = []
      for (let i = 0; i < 4; i++) statuses.push((yield* download).status)
      assert.deepStrictEqual(statuses, [503, 503, 200, 200])
      const log = (yield* sandbox.requests).filter((r) => r.route === "download")
      assert.deepStrictEqual(log.map((r) => r.fault), ["ServerError", "ServerError", undefined, undefined])
    }).pipe(withSandbox()))

  it.effect("faults on one route apply in the order they were injected", () =>
    Effect.gen(function*() {
      const { download, sandbox } = yield* ready
      yield* sandbox.injectFault("download", Sandbox.Fault.TooManyRequests({}))
      yield* sandbox.injectFault("download", Sandbox.Fault.ServerError({ status: 504 }))
      const statuses: Array<number> = []
      for (let i = 0; i < 3; i++) statuses.push((yield* download).status)
      assert.deepStrictEqual(statuses, [429, 504, 200])
    }).pipe(withSandbox()))

  it.effect("a fault on the token route", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      yield* sandbox.injectFault("token", Sandbox.Fault.ServerError({ status: 503, html: true }))
      const reply = yield* postToken(grant(sandbox))
      assert.strictEqual(reply.status, 503)
      assert.include(reply.text, "503 Service Temporarily Unavailable")
      assert.strictEqual((yield* postToken(grant(sandbox))).status, 200)
    }).pipe(withSandbox()))

  it.effect("clearFaults removes every injected fault", () =>
    Effect.gen(function*() {
      const { download, sandbox } = yield* ready
      yield* sandbox.injectFault("download", Sandbox.Fault.TooManyRequests({}), { times: 100 })
      yield* sandbox.injectFault("download", Sandbox.Fault.ServerError({}), { rate: 1 })
      assert.strictEqual((yield* download).status, 429)
      yield* sandbox.clearFaults
      assert.strictEqual((yield* download).status, 200)
      assert.strictEqual((yield* download).status, 200)
    }).pipe(withSandbox()))

  describe("at a seeded rate", () => {
    /** Which of `n` list calls a fresh sandbox faults, at `rate` with `seed`. */
    const pattern = (schedule: Sandbox.FaultSchedule, n = 40) =>
      Effect.gen(function*() {
        const sandbox = yield* Sandbox.Sandbox
        const token = yield* getToken
        yield* sandbox.injectFault("tasks", Sandbox.Fault.TooManyRequests({}), schedule)
        const faulted: Array<boolean> = []
        for (let i = 0; i < n; i++) faulted.push((yield* apiGet("/tasks", token)).status === 429)
        const log = (yield* sandbox.requests).filter((r) => r.route === "tasks")
        assert.deepStrictEqual(log.map((r) => r.fault === "TooManyRequests"), faulted)
        return faulted
      }).pipe(withSandbox())

    it.effect("the same seed faults the same requests in two sandboxes; another seed differs", () =>
      Effect.gen(function*() {
        const first = yield* pattern({ rate: 0.5, seed: 42 })
        const again = yield* pattern({ rate: 0.5, seed: 42 })
        const other = yield* pattern({ rate: 0.5, seed: 7 })
        assert.deepStrictEqual(again, first)
        assert.notDeepEqual(other, first)
        const count = first.filter(Boolean).length
        // Some faulted, some not: a rate, neither "always" nor "never".
        assert.isAbove(count, 8)
        assert.isBelow(count, 32)
      }))

    it.effect("the seed defaults to 1; rate 0 never faults and rate 1 always does", () =>
      Effect.gen(function*() {
        assert.deepStrictEqual(yield* pattern({ rate: 0.3 }), yield* pattern({ rate: 0.3, seed: 1 }))
        assert.isFalse((yield* pattern({ rate: 0 }, 10)).some(Boolean))
        assert.isTrue((yield* pattern({ rate: 1 }, 10)).every(Boolean))
      }))
  })
})
