/**
 * The sandbox itself, over real sockets on 127.0.0.1: the token endpoint, the task endpoints, the file host,
 * fault injection and the checks of its options. Each block shares one sandbox (`layer`), built with the
 * block's `TestClock`: time (token and URL expiry, task progress) moves only when a test adjusts it, and
 * every test creates its own tasks and tokens, so tests of a block do not depend on one another.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it, layer } from "@effect/vitest"
import { Credentials, TextRevealClient } from "effect-textreveal"
import { Sandbox } from "effect-textreveal/sandbox"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { gunzipSync, gzipSync } from "node:zlib"

// ---- fixtures

const csvHeader = "entity_id,name,isin,ticker,country,sector,founded,sentiment"

/** A sandbox and the fetch `HttpClient`, for a block of tests. */
const sandboxLayer = (options?: Sandbox.Options) => Layer.merge(Sandbox.layer(options), FetchHttpClient.layer)

interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly text: string
}

/** Sends a request with the fetch `HttpClient` and reads the whole body as text. */
const send = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.gen(function*() {
    const response = yield* (yield* HttpClient.HttpClient).execute(request)
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
  const reply = yield* postToken(grant(yield* Sandbox.Sandbox))
  assert.strictEqual(reply.status, 200, reply.text)
  return (jsonOf(reply) as { access_token: string }).access_token
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
    const id = yield* (yield* Sandbox.Sandbox).createTask(options)
    const reply = yield* apiGet(`/tasks/${id}/download`, yield* getToken)
    assert.strictEqual(reply.status, 200, reply.text)
    return { id, urls: jsonOf(reply) as Array<string> }
  })

/** Forgets the faults and requests of earlier tests of the block. */
const fresh = Effect.flatMap(Sandbox.Sandbox, (sandbox) => Effect.zipRight(sandbox.clearFaults, sandbox.clearRequests))

interface RawReply {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
  /** Whether the whole body announced by the response arrived. */
  readonly complete: boolean
}

/**
 * A request with `node:http`, on a connection of its own: the bytes exactly as sent (no decompression), and
 * whether the body was cut short.
 */
const rawRequest = (
  url: string,
  options: { readonly method?: string; readonly headers?: Record<string, string> } = {}
) =>
  Effect.async<RawReply>((resume) => {
    const chunks: Array<Buffer> = []
    let done = false
    const request = http.request(
      url,
      { method: options.method ?? "GET", headers: options.headers, agent: false },
      (response) => {
        response.on("data", (chunk: Buffer) => chunks.push(chunk))
        // A cut body is reported by `complete`, read on close.
        response.on("error", () => {})
        response.on("close", () => {
          if (done) return
          done = true
          resume(Effect.succeed({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks),
            complete: response.complete
          }))
        })
      }
    )
    request.on("error", (error) => {
      if (done) return
      done = true
      resume(Effect.die(error))
    })
    request.end()
    return Effect.sync(() => request.destroy())
  })

const rawGet = (url: string, headers: Record<string, string> = {}) => rawRequest(url, { headers })

/** Sends `request line` as is on a socket and gives the status and body of the answer. */
const rawTarget = (target: string) =>
  Effect.flatMap(
    Sandbox.Sandbox,
    (sandbox) =>
      Effect.async<{ readonly status: number; readonly body: string }>((resume) => {
        const { hostname, port } = new URL(sandbox.baseUrl)
        const socket = net.connect(Number(port), hostname)
        let data = ""
        socket.on("data", (chunk) => (data += chunk.toString("latin1")))
        socket.on("error", (error) => resume(Effect.die(error)))
        socket.on("close", () => {
          const [head = "", body = ""] = data.split("\r\n\r\n")
          resume(Effect.succeed({ status: Number(head.split(" ")[1]), body }))
        })
        socket.write(`GET ${target} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`)
        return Effect.sync(() => socket.destroy())
      })
  )

/** Parses CSV text (quoted fields with `""` escapes, LF or CRLF) into rows of fields. */
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
    } else if (c === "\n" || (c === "\r" && text[i + 1] === "\n")) {
      if (c === "\r") i++
      row.push(field)
      rows.push(row)
      row = []
      field = ""
    } else field += c
  }
  if (field !== "" || row.length > 0) rows.push([...row, field])
  return rows
}

/** Whether an ISIN's check digit is right (Luhn over the letters as numbers and the digits). */
const validIsin = (isin: string): boolean => {
  const digits = isin.slice(0, 11).replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55))
  let sum = 0
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i])
    if (i % 2 === 0) d = d * 2 > 9 ? d * 2 - 9 : d * 2
    sum += d
  }
  return (10 - (sum % 10)) % 10 === Number(isin[11])
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

/** The value of a query parameter of a URL. */
const param = (url: string, name: string) => new URL(url).searchParams.get(name)

/** The same URL with one query parameter replaced. */
const withParam = (url: string, name: string, value: string) => {
  const u = new URL(url)
  u.searchParams.set(name, value)
  return u.href
}

const lastSegment = (url: string) => new URL(url).pathname.split("/").pop()

const documentedKeys = (body: unknown) => Object.keys(body as object).sort()

// ---- token endpoint

layer(sandboxLayer())("Sandbox token endpoint", (it) => {
  it.effect("issues a bearer token for the documented password grant, valid on the API", () =>
    Effect.gen(function*() {
      const reply = yield* postToken(grant(yield* Sandbox.Sandbox))
      assert.strictEqual(reply.status, 200)
      assert.match(reply.headers["content-type"] ?? "", /application\/json/)
      const body = jsonOf(reply) as Record<string, unknown>
      assert.deepStrictEqual(documentedKeys(body), ["access_token", "expires_in", "token_type"])
      assert.strictEqual(body.expires_in, 86400)
      assert.strictEqual(body.token_type, "Bearer")
      assert.match(body.access_token as string, /^[\x21-\x7e]{10,}$/)
      assert.strictEqual((yield* apiGet("/tasks", body.access_token as string)).status, 200)
    }))

  it.effect("issues a different token for each grant", () =>
    Effect.gen(function*() {
      assert.notStrictEqual(yield* getToken, yield* getToken)
    }))

  it.effect.each(
    [
      ["a wrong password", { password: "not-the-secret" }],
      ["a wrong username", { username: "someone-else" }]
    ] as const
  )("refuses %s with 403 and an OAuth error body", ([_, overrides]) =>
    Effect.gen(function*() {
      const reply = yield* postToken(grant(yield* Sandbox.Sandbox, overrides))
      assert.strictEqual(reply.status, 403)
      assert.deepStrictEqual(jsonOf(reply), { error: "invalid_grant", error_description: "Wrong email or password." })
    }))

  it.effect.each(
    [
      ["a wrong client_id", { client_id: "someone-elses-client" }],
      ["the audience without its trailing slash", { audience: "https://api.textreveal.com" }]
    ] as const
  )("refuses %s with 401 access_denied", ([_, overrides]) =>
    Effect.gen(function*() {
      const reply = yield* postToken(grant(yield* Sandbox.Sandbox, overrides))
      assert.strictEqual(reply.status, 401)
      assert.strictEqual((jsonOf(reply) as { error: string }).error, "access_denied")
    }))

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
      assert.strictEqual((jsonOf(notJson) as { error: string }).error, "invalid_request")
    }))
})

// ---- bearer tokens on API calls

layer(sandboxLayer())("Sandbox bearer tokens", (it) => {
  const unauthorized = { message: "invalid username or API key", code: 401, reason: "unauthorized" }

  it.effect("a call without a bearer token is 401 'Authorization header is expected'", () =>
    Effect.gen(function*() {
      for (const headers of [{}, { authorization: "Basic a2V5OnNlY3JldA==" }, { authorization: "Bearer" }]) {
        const reply = yield* apiGet("/tasks", undefined, headers)
        assert.strictEqual(reply.status, 401)
        assert.deepStrictEqual(jsonOf(reply), {
          message: "Authorization header is expected",
          code: 401,
          reason: "unauthorized"
        })
      }
    }))

  it.effect("the scheme is case-insensitive: bearer and BEARER are accepted", () =>
    Effect.gen(function*() {
      const token = yield* getToken
      for (const scheme of ["bearer", "BEARER", "Bearer"]) {
        const reply = yield* apiGet("/tasks", undefined, { authorization: `${scheme} ${token}` })
        assert.strictEqual(reply.status, 200, scheme)
      }
    }))

  it.effect("an unknown token is 401 with the documented body", () =>
    Effect.gen(function*() {
      const reply = yield* apiGet("/tasks", "sbx.not-a-token-it-issued")
      assert.strictEqual(reply.status, 401)
      assert.deepStrictEqual(jsonOf(reply), unauthorized)
    }))

  it.effect("expireTokens makes every issued token 401; a new grant works again", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const [first, second] = [yield* getToken, yield* getToken]
      assert.strictEqual((yield* apiGet("/tasks", first)).status, 200)
      yield* sandbox.expireTokens
      for (const token of [first, second]) assert.deepStrictEqual(jsonOf(yield* apiGet("/tasks", token)), unauthorized)
      assert.strictEqual((yield* apiGet("/tasks", yield* getToken)).status, 200)
    }))

  it.effect("a token expires after its lifetime (24 hours by default), by TestClock", () =>
    Effect.gen(function*() {
      const token = yield* getToken
      yield* TestClock.adjust(Duration.millis(24 * 3_600_000 - 1))
      assert.strictEqual((yield* apiGet("/tasks", token)).status, 200)
      yield* TestClock.adjust(Duration.millis(1))
      const reply = yield* apiGet("/tasks", token)
      assert.strictEqual(reply.status, 401)
      assert.deepStrictEqual(jsonOf(reply), unauthorized)
    }))
})

// ---- options of the sandbox

layer(sandboxLayer({
  username: "key-1",
  password: "secret-1",
  tokenLifetime: "1 hour",
  rejectedTokenStatus: 403,
  urlValidity: "1 minute"
}))("Sandbox options", (it) => {
  it.effect("username and password are the ones its token endpoint accepts; expires_in follows tokenLifetime", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      assert.strictEqual(sandbox.username, "key-1")
      assert.strictEqual(sandbox.password, "secret-1")
      const reply = yield* postToken(grant(sandbox))
      assert.strictEqual(reply.status, 200)
      assert.strictEqual((jsonOf(reply) as { expires_in: number }).expires_in, 3600)
      assert.strictEqual((yield* postToken(grant(sandbox, { password: "sandbox-secret" }))).status, 403)
    }))

  it.effect("rejectedTokenStatus: 403 answers expired and unknown tokens with the documented 403", () =>
    Effect.gen(function*() {
      const token = yield* getToken
      yield* TestClock.adjust("1 hour")
      for (const t of [token, "sbx.unknown"]) {
        const reply = yield* apiGet("/tasks", t)
        assert.strictEqual(reply.status, 403)
        assert.deepStrictEqual(jsonOf(reply), {
          message: "Not authorized to access this resource",
          code: 403,
          reason: "forbidden"
        })
      }
    }))

  it.effect("urlValidity sets the expiry of the URLs", () =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const { urls } = yield* taskWithUrls({ files: [{ rows: 1 }] })
      assert.strictEqual(param(urls[0]!, "expires"), String(now + 60_000))
    }))
})

it.scoped("seed: two sandboxes with the same seed give the same task ids, tokens and files; another seed differs", () =>
  Effect.gen(function*() {
    const run = (seed: number) =>
      Effect.gen(function*() {
        const sandbox = yield* Sandbox.Sandbox
        const id = yield* sandbox.createTask({ files: [{ rows: 20 }] })
        return { id, files: yield* sandbox.files(id), token: yield* getToken }
      }).pipe(Effect.provide(sandboxLayer({ seed })))
    const [a, b, c] = [yield* run(42), yield* run(42), yield* run(7)]
    assert.deepStrictEqual(b, a)
    assert.notStrictEqual(c.id, a.id)
    assert.notStrictEqual(c.token, a.token)
    assert.notStrictEqual(c.files[0]!.sha256, a.files[0]!.sha256)
  }))

// ---- download endpoint

layer(sandboxLayer())("Sandbox GET /v3/tasks/{id}/download", (it) => {
  it.effect("answers a bare array of signed URLs, one per file, in order, valid 5 minutes", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const now = yield* Clock.currentTimeMillis
      const { id, urls } = yield* taskWithUrls({
        files: [{ name: "c.csv", rows: 1 }, { name: "a.csv", rows: 1 }, { name: "b.csv", rows: 1 }]
      })
      const origin = new URL(sandbox.baseUrl).origin
      assert.deepStrictEqual(
        urls.map((u) => new URL(u).origin + new URL(u).pathname),
        ["c.csv", "a.csv", "b.csv"].map((name) => `${origin}/files/exports/task=${id}/${name}`)
      )
      for (const url of urls) {
        assert.strictEqual(param(url, "expires"), String(now + 5 * 60_000))
        assert.match(param(url, "signature") ?? "", /^[0-9a-f]{64}$/)
      }
    }))

  it.effect("a default task has two files, <id>.csv and <id>-2.csv; its id is a lower-case UUID", () =>
    Effect.gen(function*() {
      const { id, urls } = yield* taskWithUrls()
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      assert.deepStrictEqual(urls.map(lastSegment), [`${id}.csv`, `${id}-2.csv`])
    }))

  it.effect("an upper-case task id names the same task (ids compare case-insensitively)", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      const id = yield* sandbox.createTask({ files: [{ rows: 1 }] })
      const reply = yield* apiGet(`/tasks/${id.toUpperCase()}/download`, token)
      assert.strictEqual(reply.status, 200, reply.text)
      assert.deepStrictEqual((jsonOf(reply) as Array<string>).map(lastSegment), [`${id}.csv`])
      assert.deepStrictEqual(jsonOf(yield* apiGet(`/tasks/${id.toUpperCase()}/status`, token)), { status: "completed" })
    }))

  it.effect("404 for an unknown task", () =>
    Effect.gen(function*() {
      const reply = yield* apiGet("/tasks/f47ac10b-58cc-4372-a567-0e02b2c3d479/download", yield* getToken)
      assert.strictEqual(reply.status, 404)
      assert.deepStrictEqual(jsonOf(reply), {
        message: "The requested task does not exist or is not visible to you.",
        code: 404,
        reason: "not_found"
      })
    }))

  it.effect("400 for a task id that is not a UUID, with a field error on task_id", () =>
    Effect.gen(function*() {
      const reply = yield* apiGet("/tasks/not-a-uuid/download", yield* getToken)
      assert.strictEqual(reply.status, 400)
      assert.deepStrictEqual(jsonOf(reply), {
        message: "The server returned an unexpected response",
        code: 400,
        reason: "invalid",
        errors: [{ message: "Invalid uuid", field: "task_id", reason: "invalid_string" }]
      })
    }))

  it.effect("403 for a task of another account (accessible: false)", () =>
    Effect.gen(function*() {
      const id = yield* (yield* Sandbox.Sandbox).createTask({ accessible: false })
      const reply = yield* apiGet(`/tasks/${id}/download`, yield* getToken)
      assert.strictEqual(reply.status, 403)
      assert.deepStrictEqual(jsonOf(reply), {
        message: "Not authorized to access this resource",
        code: 403,
        reason: "forbidden"
      })
    }))

  it.effect("a failed task: 400 with a field error task_failed on task_id", () =>
    Effect.gen(function*() {
      const id = yield* (yield* Sandbox.Sandbox).createTask({ outcome: "failed" })
      const reply = yield* apiGet(`/tasks/${id}/download`, yield* getToken)
      assert.strictEqual(reply.status, 400)
      assert.deepStrictEqual(jsonOf(reply), {
        message: "An error occured while processing the task.",
        code: 400,
        reason: "internal",
        errors: [{ message: "An error occured while processing the task.", field: "task_id", reason: "task_failed" }]
      })
    }))

  it.effect("a task not completed: 400 with a field error task_not_completed naming its status; 200 once done", () =>
    Effect.gen(function*() {
      const token = yield* getToken
      const id = yield* (yield* Sandbox.Sandbox).createTask({ startingFor: "10 seconds", runningFor: "1 minute" })
      for (const [step, status] of [[Duration.zero, "starting"], [Duration.seconds(30), "running"]] as const) {
        yield* TestClock.adjust(step)
        const reply = yield* apiGet(`/tasks/${id}/download`, token)
        assert.strictEqual(reply.status, 400)
        const message = `The task is not completed yet (status: ${status}).`
        assert.deepStrictEqual(jsonOf(reply), {
          message,
          code: 400,
          reason: "invalid",
          errors: [{ message, field: "task_id", reason: "task_not_completed" }]
        })
      }
      yield* TestClock.adjust("40 seconds")
      assert.strictEqual((yield* apiGet(`/tasks/${id}/download`, token)).status, 200)
    }))
})

// ---- status endpoint

layer(sandboxLayer())("Sandbox GET /v3/tasks/{id}/status", (it) => {
  const statusAt = (id: string, token: string) =>
    Effect.map(apiGet(`/tasks/${id}/status`, token), (reply) => {
      assert.strictEqual(reply.status, 200, reply.text)
      assert.deepStrictEqual(documentedKeys(jsonOf(reply)), ["status"])
      return (jsonOf(reply) as { status: string }).status
    })

  it.effect("moves starting -> running -> completed after startingFor and runningFor", () =>
    Effect.gen(function*() {
      const token = yield* getToken
      const id = yield* (yield* Sandbox.Sandbox).createTask({ startingFor: "10 seconds", runningFor: "20 seconds" })
      const seen: Array<string> = []
      for (const step of [0, 9_999, 1, 19_998, 1, 1]) {
        yield* TestClock.adjust(Duration.millis(step))
        seen.push(yield* statusAt(id, token))
      }
      assert.deepStrictEqual(seen, ["starting", "starting", "running", "running", "running", "completed"])
    }))

  it.effect("a failing task ends failed; a default task is completed at once", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      const failing = yield* sandbox.createTask({ outcome: "failed", runningFor: "5 seconds" })
      assert.strictEqual(yield* statusAt(yield* sandbox.createTask(), token), "completed")
      assert.strictEqual(yield* statusAt(failing, token), "running")
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual(yield* statusAt(failing, token), "failed")
    }))

  it.effect("404, 400 and 403 as for the download endpoint", () =>
    Effect.gen(function*() {
      const token = yield* getToken
      const hidden = yield* (yield* Sandbox.Sandbox).createTask({ accessible: false })
      const statuses: Array<number> = []
      for (const id of ["f47ac10b-58cc-4372-a567-0e02b2c3d479", "nope", hidden]) {
        const reply = yield* apiGet(`/tasks/${id}/status`, token)
        assert.strictEqual((jsonOf(reply) as { code: number }).code, reply.status)
        statuses.push(reply.status)
      }
      assert.deepStrictEqual(statuses, [404, 400, 403])
    }))
})

// ---- task list

layer(sandboxLayer())("Sandbox GET /v3/tasks", (it) => {
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

  /** Every page of a listing, following `search_after`. */
  const allPages = (query: string, token: string) =>
    Effect.gen(function*() {
      const pages: Array<Page> = []
      let cursor: string | null = null
      do {
        const page: Page = yield* list(`${query}${cursor === null ? "" : `&search_after=${cursor}`}`, token)
        pages.push(page)
        cursor = page.search_after
        assert.isBelow(pages.length, 100, "the cursor must lead to a last page")
      } while (cursor !== null)
      return pages
    })

  it.effect("pages through every visible task with size and search_after, newest first", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      const ids: Array<string> = []
      for (let i = 0; i < 5; i++) {
        ids.push(yield* sandbox.createTask({ files: [] }))
        if (i === 2) yield* sandbox.createTask({ accessible: false })
      }
      const pages = yield* allPages("?size=2", token)
      const listed = pages.flatMap((p) => p.data.map((t) => t.id))
      const count = pages[0]!.count
      assert.deepStrictEqual(listed.slice(0, 5), [...ids].reverse())
      assert.strictEqual(listed.length, count)
      assert.strictEqual(new Set(listed).size, count)
      assert.deepStrictEqual(pages.map((p) => p.has_next), pages.map((_, i) => i < pages.length - 1))
      assert.isTrue(pages.every((p) => p.count === count && p.size === p.data.length && p.size <= 2))
    }))

  it.effect("a last page that is full has has_next false and no search_after", () =>
    Effect.gen(function*() {
      const token = yield* getToken
      yield* (yield* Sandbox.Sandbox).createTask({ files: [] })
      const { count } = yield* list("?size=1", token)
      const page = yield* list(`?size=${count}`, token)
      assert.strictEqual(page.data.length, count)
      assert.isFalse(page.has_next)
      assert.isNull(page.search_after)
    }))

  it.effect("order=created_at:asc lists oldest first, page after page", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      const ids = [yield* sandbox.createTask({ files: [] }), yield* sandbox.createTask({ files: [] })]
      const listed = (yield* allPages("?order=created_at:asc&size=2", token)).flatMap((p) => p.data.map((t) => t.id))
      assert.deepStrictEqual(listed.slice(-2), ids)
    }))

  it.effect("size defaults to 10; 1 and 1000 are accepted", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      for (let i = 0; i < 12; i++) yield* sandbox.createTask({ files: [] })
      const page = yield* list("", token)
      assert.strictEqual(page.data.length, 10)
      assert.isTrue(page.has_next)
      assert.strictEqual((yield* list("?size=1", token)).data.length, 1)
      const all = yield* list("?size=1000", token)
      assert.strictEqual(all.data.length, page.count)
      assert.isFalse(all.has_next)
    }))

  it.effect.each([
    ["0", "too_small", "Number must be greater than or equal to 1"],
    ["1001", "too_big", "Number must be less than or equal to 1000"],
    ["-1", "too_small", "Number must be greater than or equal to 1"],
    ["ten", "invalid_type", "Expected number, received string"],
    ["", "invalid_type", "Expected number, received string"]
  ])("size=%s is refused with 400 and a field error on size", ([size, reason, message]) =>
    Effect.gen(function*() {
      const reply = yield* apiGet(`/tasks?size=${size}`, yield* getToken)
      assert.strictEqual(reply.status, 400)
      assert.deepStrictEqual(jsonOf(reply), {
        message: "The server returned an unexpected response",
        code: 400,
        reason: "invalid",
        errors: [{ message, field: "size", reason }]
      })
    }))

  it.effect.each(["garbage", "0", "999999", "1;drop"])(
    "search_after=%s is refused with 400 and the documented body",
    (cursor) =>
      Effect.gen(function*() {
        const reply = yield* apiGet(`/tasks?search_after=${cursor}`, yield* getToken)
        assert.strictEqual(reply.status, 400)
        assert.deepStrictEqual(jsonOf(reply), {
          message: "The server returned an unexpected response",
          code: 400,
          reason: "invalid",
          errors: [{ message: "Invalid cursor", field: "search_after", reason: "invalid_string" }]
        })
      })
  )

  it.effect("an order that is not field:direction is refused with a field error on order", () =>
    Effect.gen(function*() {
      const token = yield* getToken
      for (const order of ["name:asc", "created_at", "created_at:up"]) {
        const reply = yield* apiGet(`/tasks?order=${order}`, token)
        assert.strictEqual(reply.status, 400, order)
        assert.deepStrictEqual((jsonOf(reply) as { errors: Array<{ field: string }> }).errors.map((e) => e.field), [
          "order"
        ])
      }
    }))

  it.effect("a task has the documented fields; completed_at is null until it is done", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      const iso = (millis: number) => DateTime.formatIso(DateTime.unsafeMake(millis))
      const now = yield* Clock.currentTimeMillis
      const done = yield* sandbox.createTask({ description: "Entities of universe 42" })
      const running = yield* sandbox.createTask({ startingFor: "1 second", runningFor: "1 minute" })
      const byId = new Map((yield* list("?size=1000", token)).data.map((t) => [t.id, t]))
      assert.deepStrictEqual(byId.get(done), {
        id: done,
        status: "completed",
        description: "Entities of universe 42",
        type: "export",
        created_at: iso(now),
        completed_at: iso(now)
      })
      assert.strictEqual(byId.get(running)!.status, "starting")
      assert.isNull(byId.get(running)!.completed_at)
      yield* TestClock.adjust("61 seconds")
      const later = new Map((yield* list("?size=1000", token)).data.map((t) => [t.id, t]))
      assert.strictEqual(later.get(running)!.status, "completed")
      assert.strictEqual(later.get(running)!.completed_at, iso(now + 61_000))
    }))

  it.effect("fields keeps only the fields asked for (comma-separated or repeated); an unknown field is 400", () =>
    Effect.gen(function*() {
      const token = yield* getToken
      yield* (yield* Sandbox.Sandbox).createTask({ files: [] })
      for (
        const [query, keys] of [
          ["?fields=id,status", ["id", "status"]],
          ["?fields=id&fields=created_at", ["created_at", "id"]],
          ["?fields=description", ["description", "id"]]
        ] as const
      ) {
        const page = yield* list(`${query}&size=1`, token)
        assert.deepStrictEqual(documentedKeys(page.data[0]), [...keys], query)
      }
      const refused = yield* apiGet("/tasks?fields=id,owner", token)
      assert.strictEqual(refused.status, 400)
      assert.deepStrictEqual(jsonOf(refused), {
        message: "The server returned an unexpected response",
        code: 400,
        reason: "invalid",
        errors: [{ message: "Unknown field", field: "fields", reason: "invalid_enum_value" }]
      })
    }))
})

// ---- export endpoint

layer(sandboxLayer({ exportTask: { runningFor: "1 minute", files: [{ rows: 3 }] } }))(
  "Sandbox POST /v3/<resource>/export",
  (it) => {
    it.effect("starts the configured task and answers { task_id }; one export at a time (429), as documented", () =>
      Effect.gen(function*() {
        yield* fresh
        const sandbox = yield* Sandbox.Sandbox
        const token = yield* getToken
        const start = send(
          HttpClientRequest.post(`${sandbox.baseUrl}/universes/42/entities/export`).pipe(
            HttpClientRequest.bearerToken(token)
          )
        )
        const started = yield* start
        assert.strictEqual(started.status, 200, started.text)
        const body = jsonOf(started) as { task_id: string }
        assert.deepStrictEqual(documentedKeys(body), ["task_id"])
        assert.deepStrictEqual(jsonOf(yield* apiGet(`/tasks/${body.task_id}/status`, token)), { status: "running" })

        const busy = yield* start
        assert.strictEqual(busy.status, 429)
        assert.deepStrictEqual(jsonOf(busy), {
          message: "You have too many exports in progress.",
          code: 429,
          reason: "too_many_requests"
        })
        yield* TestClock.adjust("1 minute")
        assert.strictEqual((yield* start).status, 200)
        assert.strictEqual((yield* sandbox.files(body.task_id)).length, 1)
        assert.deepStrictEqual((yield* sandbox.requests).filter((r) => r.route === "export").map((r) => r.status), [
          200,
          429,
          200
        ])
      }))

    it.effect("needs a bearer token", () =>
      Effect.gen(function*() {
        const sandbox = yield* Sandbox.Sandbox
        const reply = yield* send(HttpClientRequest.post(`${sandbox.baseUrl}/universes/42/entities/export`))
        assert.strictEqual(reply.status, 401)
      }))
  }
)

// ---- file host

layer(sandboxLayer())("Sandbox file host", (it) => {
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
        assert.isTrue(validIsin(row[2]!), row[2])
        assert.strictEqual(row[2]!.slice(0, 2), row[4])
        assert.match(row[3]!, /^[A-Z]{4}$/)
        assert.match(row[6]!, /^(19\d\d|20[0-2]\d)$/)
      }
      assert.strictEqual(new Set(rows.slice(1).map((row) => row[0])).size, 600, "entity ids are unique in a file")
      // The quoting is exercised: names with commas and quotes come back whole.
      assert.isTrue(rows.some((row) => row[1]!.includes(",")))
      assert.isTrue(rows.some((row) => row[1]!.includes("\"")))

      const empty = yield* rawGet(urls[1]!)
      assert.strictEqual(empty.status, 200)
      assert.strictEqual(empty.body.toString("latin1"), `${csvHeader}\n`)
      assert.strictEqual(empty.headers["content-length"], String(csvHeader.length + 1))
    }))

  it.effect("the same file gives the same bytes on every request; another task's file differs", () =>
    Effect.gen(function*() {
      const first = yield* taskWithUrls({ files: [{ rows: 300 }] })
      const other = yield* taskWithUrls({ files: [{ rows: 300 }] })
      const [a, b, c] = [yield* rawGet(first.urls[0]!), yield* rawGet(first.urls[0]!), yield* rawGet(other.urls[0]!)]
      assert.isTrue(a.body.equals(b.body))
      assert.strictEqual(a.headers["etag"], b.headers["etag"])
      assert.isFalse(a.body.equals(c.body))
      assert.notStrictEqual(a.headers["etag"], c.headers["etag"])
    }))

  it.effect("files() gives each file's exact size and SHA-256, in URL order", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const { id, urls } = yield* taskWithUrls({ files: [{ rows: 700 }, { name: "x.csv", content: "a,b\n1,2\n" }] })
      const files = yield* sandbox.files(id.toUpperCase())
      assert.deepStrictEqual(files.map((f) => f.name), [`${id}.csv`, "x.csv"])
      for (const [i, url] of urls.entries()) {
        const reply = yield* rawGet(url)
        assert.strictEqual(files[i]!.size, reply.body.length)
        assert.strictEqual(files[i]!.sha256, sha256(reply.body))
        assert.strictEqual(files[i]!.etag, reply.headers["etag"])
        assert.strictEqual(files[i]!.path, new URL(url).pathname)
      }
      const unknown = yield* Effect.flip(sandbox.files("f47ac10b-58cc-4372-a567-0e02b2c3d479"))
      assert.strictEqual(unknown._tag, "SandboxError")
      assert.strictEqual(unknown.operation, "files")
    }))

  it.effect("needs no token: a signed URL is served to a plain GET", () =>
    Effect.gen(function*() {
      const { urls } = yield* taskWithUrls({ files: [{ rows: 5 }] })
      const reply = yield* send(HttpClientRequest.get(urls[0]!))
      assert.strictEqual(reply.status, 200)
      assert.strictEqual(parseCsv(reply.text).length, 6)
    }))

  it.effect("HEAD answers the headers of the file (200, Content-Length, ETag) and no body", () =>
    Effect.gen(function*() {
      const { urls } = yield* taskWithUrls({ files: [{ rows: 50 }] })
      const full = yield* rawGet(urls[0]!)
      const head = yield* rawRequest(urls[0]!, { method: "HEAD" })
      assert.strictEqual(head.status, 200)
      assert.strictEqual(head.headers["content-length"], String(full.body.length))
      assert.strictEqual(head.headers["etag"], full.headers["etag"])
      assert.strictEqual(head.headers["accept-ranges"], "bytes")
      assert.match(head.headers["content-type"] ?? "", /^text\/csv/)
      assert.strictEqual(head.body.length, 0)
      const expired = yield* rawRequest(withParam(urls[0]!, "signature", "0".repeat(64)), { method: "HEAD" })
      assert.strictEqual(expired.status, 403)
    }))

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
    }))

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
    }))

  it.effect("hostile names travel percent-encoded: ../../x.csv, /etc/passwd, two files of one name", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const { id, urls } = yield* taskWithUrls({
        files: [
          { name: "../../x.csv", rows: 2 },
          { name: "/etc/passwd", rows: 2 },
          { name: "a.csv", rows: 3 },
          { name: "a.csv", rows: 4 }
        ]
      })
      assert.deepStrictEqual(urls.map(lastSegment), ["..%2F..%2Fx.csv", "%2Fetc%2Fpasswd", "a.csv", "a.csv"])
      assert.strictEqual(new Set(urls.map((u) => new URL(u).pathname)).size, 4)
      assert.strictEqual(new URL(urls[3]!).pathname, `/files/exports/task=${id}/part-4/a.csv`)
      const bodies = []
      for (const url of urls) {
        const reply = yield* rawGet(url)
        assert.strictEqual(reply.status, 200, url)
        bodies.push(reply.body)
      }
      assert.deepStrictEqual(bodies.map((b) => parseCsv(b.toString("latin1")).length), [3, 3, 4, 5])
      assert.deepStrictEqual((yield* sandbox.files(id)).map((f) => f.name), [
        "../../x.csv",
        "/etc/passwd",
        "a.csv",
        "a.csv"
      ])
    }))

  it.effect("CSV choices: reordered columns, a multiline comment column, CRLF and a BOM", () =>
    Effect.gen(function*() {
      const columns = ["comment", "isin", "entity_id", "name"] as const
      const { urls } = yield* taskWithUrls({ files: [{ rows: 40, columns, lineEnding: "crlf", bom: true }] })
      const body = (yield* rawGet(urls[0]!)).body
      assert.deepStrictEqual([...body.subarray(0, 3)], [0xef, 0xbb, 0xbf])
      const text = body.subarray(3).toString("utf8")
      assert.isTrue(text.startsWith(`${columns.join(",")}\r\n`))
      assert.isTrue(text.endsWith("\r\n"))
      const rows = parseCsv(text)
      assert.strictEqual(rows.length, 41)
      assert.isTrue(rows.every((row) => row.length === 4))
      const comments = rows.slice(1).map((row) => row[0]!)
      for (const needle of ["\n", "\r\n", "\"", ",", "ü", "«"]) {
        assert.isTrue(comments.some((c) => c.includes(needle)), `a comment holds ${JSON.stringify(needle)}`)
      }
      assert.isTrue(comments.includes(""))
      assert.isTrue(rows.slice(1).every((row) => validIsin(row[1]!)))
    }))

  it.effect("content: the bytes given, as given; a string is sent as UTF-8", () =>
    Effect.gen(function*() {
      const bytes = Uint8Array.from([0, 255, 10, 13, 34])
      const { urls } = yield* taskWithUrls({
        files: [{ name: "raw.csv", content: bytes }, { name: "text.csv", content: "é,\"x\"\n" }, { content: "" }]
      })
      const [raw, text, empty] = [yield* rawGet(urls[0]!), yield* rawGet(urls[1]!), yield* rawGet(urls[2]!)]
      assert.deepStrictEqual([...raw.body], [...bytes])
      assert.strictEqual(text.body.toString("utf8"), "é,\"x\"\n")
      assert.strictEqual(text.headers["content-length"], String(Buffer.byteLength("é,\"x\"\n")))
      assert.strictEqual(empty.status, 200)
      assert.strictEqual(empty.headers["content-length"], "0")
      assert.strictEqual(empty.body.length, 0)
    }))

  it.effect("a generated file named .gz is stored gzip-compressed and served as application/gzip", () =>
    Effect.gen(function*() {
      const { urls } = yield* taskWithUrls({ files: [{ name: "rows.csv.gz", rows: 100 }] })
      const reply = yield* rawGet(urls[0]!, { "accept-encoding": "gzip" })
      assert.strictEqual(reply.status, 200)
      assert.match(reply.headers["content-type"] ?? "", /^application\/gzip/)
      assert.isUndefined(reply.headers["content-encoding"])
      const rows = parseCsv(gunzipSync(reply.body).toString("latin1"))
      assert.strictEqual(rows.length, 101)
      assert.deepStrictEqual(rows[0], csvHeader.split(","))
    }))

  it.effect("a big file is written to disk by files() and served from there: the same bytes and ranges", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      // 100 000 rows: about 10 MiB, above the size from which files are cached on disk.
      const { id, urls } = yield* taskWithUrls({ files: [{ rows: 100_000 }] })
      const rendered = yield* rawGet(urls[0]!)
      const [info] = yield* sandbox.files(id)
      assert.isAbove(info!.size, 8 * 1024 * 1024)
      assert.strictEqual(sha256(rendered.body), info!.sha256)
      const cached = fs.readdirSync(os.tmpdir())
        .filter((dir) => dir.startsWith("effect-textreveal-sandbox-"))
        .flatMap((dir) => fs.readdirSync(path.join(os.tmpdir(), dir)).map((f) => path.join(os.tmpdir(), dir, f)))
        .filter((f) => fs.statSync(f).size === info!.size && sha256(fs.readFileSync(f)) === info!.sha256)
      assert.strictEqual(cached.length, 1, "one copy on disk")
      for (let i = 0; i < 2; i++) {
        const reply = yield* rawGet(urls[0]!)
        assert.strictEqual(reply.headers["content-length"], String(info!.size))
        assert.strictEqual(sha256(reply.body), info!.sha256)
        const range = yield* rawGet(urls[0]!, { range: "bytes=5000000-5000099" })
        assert.strictEqual(range.status, 206)
        assert.isTrue(range.body.equals(reply.body.subarray(5_000_000, 5_000_100)))
      }
    }))

  describe("Range", () => {
    // 3000 rows: several blocks of the generator, and a chunk boundary of the stream.
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
          ["bytes=1000-70000", 1000, 70000], // across blocks of rows
          ["bytes=65535-65536", 65535, 65536],
          ["bytes=25000-25300", 25000, 25300],
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
      }))

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
      }))

    it.effect("an invalid range (last byte before the first, another unit) is ignored: the whole file, 200", () =>
      Effect.gen(function*() {
        const { full, url } = yield* fullFile
        for (const range of ["bytes=5-2", "items=0-5", "bytes=0-1,5-6"]) {
          const reply = yield* rawGet(url, { range })
          assert.strictEqual(reply.status, 200, range)
          assert.isUndefined(reply.headers["content-range"])
          assert.isTrue(reply.body.equals(full))
        }
      }))

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
      }))

    it.effect("ignoreRange: a host that answers every Range with the whole file (200), without Accept-Ranges", () =>
      Effect.gen(function*() {
        const { urls } = yield* taskWithUrls({ ignoreRange: true, files: [{ rows: 100 }] })
        const full = yield* rawGet(urls[0]!)
        const ranged = yield* rawGet(urls[0]!, { range: "bytes=10-19", "if-range": full.headers["etag"]! })
        assert.strictEqual(ranged.status, 200)
        assert.isUndefined(ranged.headers["content-range"])
        assert.isUndefined(ranged.headers["accept-ranges"])
        assert.isTrue(ranged.body.equals(full.body))
      }))
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
      }))

    it.effect("gzip refused with q=0 is not used; a task without gzip ignores Accept-Encoding", () =>
      Effect.gen(function*() {
        const gzipTask = yield* taskWithUrls({ gzip: true, files: [{ rows: 50 }] })
        const plainTask = yield* taskWithUrls({ files: [{ rows: 50 }] })
        for (
          const [url, acceptEncoding] of [
            [gzipTask.urls[0]!, "gzip;q=0"],
            [gzipTask.urls[0]!, "identity, gzip; q=0"],
            [plainTask.urls[0]!, "gzip"]
          ] as const
        ) {
          const reply = yield* rawGet(url, { "accept-encoding": acceptEncoding })
          assert.isUndefined(reply.headers["content-encoding"], acceptEncoding)
          assert.isTrue(reply.body.toString("latin1").startsWith(csvHeader), acceptEncoding)
        }
      }))
  })
})

// ---- request targets

layer(sandboxLayer())("Sandbox request targets", (it) => {
  it.effect("a target that is not a URL (GET http://[) is 400 with the documented body, not a 500", () =>
    Effect.gen(function*() {
      yield* fresh
      const reply = yield* rawTarget("http://[")
      assert.strictEqual(reply.status, 400)
      assert.deepStrictEqual(JSON.parse(reply.body), {
        message: "The request target is not a valid URL.",
        code: 400,
        reason: "invalid"
      })
      const [logged] = yield* (yield* Sandbox.Sandbox).requests
      assert.strictEqual(logged!.route, "unknown")
      assert.strictEqual(logged!.status, 400)
      // The server still answers.
      assert.strictEqual((yield* apiGet("/tasks", yield* getToken)).status, 200)
    }))

  it.effect("GET //evil.example/v3/tasks does not answer the task list: 404", () =>
    Effect.gen(function*() {
      const token = yield* getToken
      const sandbox = yield* Sandbox.Sandbox
      const origin = new URL(sandbox.baseUrl).origin
      const reply = yield* rawGet(`${origin}//evil.example/v3/tasks`, { authorization: `Bearer ${token}` })
      assert.strictEqual(reply.status, 404)
      assert.deepStrictEqual(JSON.parse(reply.body.toString("utf8")), {
        message: "[route] not found.",
        code: 404,
        reason: "not_found"
      })
    }))

  it.effect("an unknown route or method is 404 with the documented body", () =>
    Effect.gen(function*() {
      const token = yield* getToken
      const sandbox = yield* Sandbox.Sandbox
      for (
        const request of [
          HttpClientRequest.get(`${sandbox.baseUrl}/nowhere`),
          HttpClientRequest.del(`${sandbox.baseUrl}/tasks`)
        ]
      ) {
        const reply = yield* send(HttpClientRequest.bearerToken(request, token))
        assert.strictEqual(reply.status, 404)
        assert.deepStrictEqual(jsonOf(reply), { message: "[route] not found.", code: 404, reason: "not_found" })
      }
    }))
})

// ---- invalid options: typed errors at the call, never a wedged server

layer(sandboxLayer())("Sandbox invalid options", (it) => {
  /** The sandbox still answers, quickly: nothing was queued by the refused call. */
  const stillServes = Effect.gen(function*() {
    const { urls } = yield* taskWithUrls({ files: [{ rows: 3 }] })
    assert.strictEqual((yield* rawGet(urls[0]!)).status, 200)
  })

  it.effect.each(
    [
      ["-1", -1],
      ["1.5", 1.5],
      ["NaN", Number.NaN],
      ["Infinity", Number.POSITIVE_INFINITY]
    ] as const
  )("createTask refuses rows: %s with a SandboxError naming files[0].rows", ([_, rows]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* Sandbox.Sandbox).createTask({ files: [{ rows }] }))
      assert.strictEqual(error._tag, "SandboxError")
      assert.strictEqual(error.operation, "createTask")
      assert.include(error.message, "files[0].rows")
      assert.include(error.message, "Expected a whole number from 0 to 1000000000")
      yield* stillServes
    }))

  it.effect.each(
    [
      ["an empty name", "", "Expected a file name"],
      ["..", "..", "cannot be a file name"],
      [".", ".", "cannot be a file name"],
      ["a lone surrogate", "a\uD800.csv", "lone surrogate"]
    ] as const
  )("createTask refuses %s as a file name", ([_, name, reason]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip((yield* Sandbox.Sandbox).createTask({ files: [{ name, rows: 1 }] }))
      assert.strictEqual(error._tag, "SandboxError")
      assert.include(error.message, "files[0].name")
      assert.include(error.message, reason)
      yield* stillServes
    }))

  it.effect("createTask refuses content given with rows, a negative duration and an unknown column", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const cases: ReadonlyArray<readonly [Sandbox.TaskOptions, string]> = [
        [{ files: [{ content: "a\n", rows: 3 }] }, "content gives the bytes"],
        [{ runningFor: -5 }, "runningFor"],
        [{ files: [{ columns: ["entity_id", "owner" as Sandbox.Column] }] }, "files[0].columns[1]"],
        [{ files: [{ columns: ["name", "name"] }] }, "each column at most once"]
      ]
      for (const [options, expected] of cases) {
        const error = yield* Effect.flip(sandbox.createTask(options))
        assert.include(error.message, expected)
      }
      yield* stillServes
    }))

  it.effect.each(
    [
      ["chunkSize: 0", Sandbox.Fault.SlowBody({ delay: "1 second", chunkSize: 0 }), "chunkSize"],
      ["chunkSize: -1", Sandbox.Fault.SlowBody({ delay: "1 second", chunkSize: -1 }), "chunkSize"],
      ["chunkSize: 1.5", Sandbox.Fault.SlowBody({ delay: "1 second", chunkSize: 1.5 }), "chunkSize"],
      ["an infinite delay", Sandbox.Fault.SlowBody({ delay: Duration.infinity }), "delay"],
      ["a Retry-After with CR LF", Sandbox.Fault.TooManyRequests({ retryAfter: "1\r\nSet-Cookie: x=1" }), "retryAfter"],
      ["a negative Retry-After", Sandbox.Fault.TooManyRequests({ retryAfter: -1 }), "retryAfter"],
      ["a Retry-After of NaN", Sandbox.Fault.TooManyRequests({ retryAfter: Number.NaN }), "retryAfter"],
      ["afterBytes: -1", Sandbox.Fault.DropConnection({ afterBytes: -1 }), "afterBytes"],
      ["status 418", Sandbox.Fault.ServerError({ status: 418 as 500 }), "status"]
    ] as const
  )("injectFault refuses %s with a SandboxError", ([_, fault, option]) =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      yield* fresh
      const error = yield* Effect.flip(sandbox.injectFault("file", fault))
      assert.strictEqual(error._tag, "SandboxError")
      assert.strictEqual(error.operation, "injectFault")
      assert.include(error.message, `fault.${option}`)
      // Nothing was injected: the file is served normally.
      yield* stillServes
      assert.isTrue((yield* sandbox.requests).every((r) => r.fault === undefined))
    }))

  it.effect("injectFault refuses a fault on a route it means nothing on, and schedules out of range", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const refusals = [
        sandbox.injectFault("token", Sandbox.Fault.ExpireEarly({})),
        sandbox.injectFault("download", Sandbox.Fault.ChangeEtag()),
        sandbox.injectFault("download", Sandbox.Fault.ServerError({}), { rate: 2 }),
        sandbox.injectFault("download", Sandbox.Fault.ServerError({}), { times: 0 }),
        sandbox.injectFault("nowhere" as Sandbox.Route, Sandbox.Fault.ServerError({}))
      ]
      for (const refusal of refusals) assert.strictEqual((yield* Effect.flip(refusal))._tag, "SandboxError")
    }))

  it.scoped.each([70_000, -1, 1.5])(
    "a port of %s fails the layer with a SandboxError before anything listens",
    (port) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Layer.build(Sandbox.layer({ port })))
        assert.strictEqual(error._tag, "SandboxError")
        assert.include((error as Sandbox.SandboxError).message, "port")
      })
  )
})

// ---- request log

layer(sandboxLayer())("Sandbox request log", (it) => {
  it.effect("records route, method, url, status, authorization, range and fault of each request", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      yield* fresh
      const token = yield* getToken
      const id = yield* sandbox.createTask({ files: [{ rows: 10 }] })
      yield* apiGet(`/tasks/${id}/status`, token)
      yield* apiGet("/tasks?size=5", token)
      yield* sandbox.injectFault("download", Sandbox.Fault.TooManyRequests({}))
      yield* apiGet(`/tasks/${id}/download`, token)
      assert.strictEqual((yield* apiGet(`/tasks/${id}/download`)).status, 401)
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
    }))

  it.effect("never records the token or the password", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      yield* apiGet("/tasks", token)
      const logged = JSON.stringify(yield* sandbox.requests)
      assert.include(logged, "/v3/tasks")
      assert.notInclude(logged, token)
      assert.notInclude(logged, sandbox.password)
    }))

  it.effect("clearRequests forgets what was received; later requests are recorded again", () =>
    Effect.gen(function*() {
      const sandbox = yield* Sandbox.Sandbox
      const token = yield* getToken
      yield* apiGet("/tasks", token)
      assert.isAbove((yield* sandbox.requests).length, 0)
      yield* sandbox.clearRequests
      assert.deepStrictEqual(yield* sandbox.requests, [])
      yield* apiGet("/tasks?size=1", token)
      assert.deepStrictEqual((yield* sandbox.requests).map((r) => r.url), ["/v3/tasks?size=1"])
    }))
})

// ---- faults

layer(sandboxLayer())("Sandbox faults", (it) => {
  const tooMany = { message: "You have too many exports in progress.", code: 429, reason: "too_many_requests" }

  /** A completed task and a token, ready for download calls, with no fault left from earlier tests. */
  const ready = Effect.gen(function*() {
    yield* fresh
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
    }))

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
      assert.strictEqual(second.headers["retry-after"], "Wed, 21 Oct 2015 07:28:00 GMT")
    }))

  it.effect.each([500, 502, 503, 504] as const)(
    "ServerError %s as the documented JSON body",
    (status) =>
      Effect.gen(function*() {
        const { download, sandbox } = yield* ready
        yield* sandbox.injectFault("download", Sandbox.Fault.ServerError({ status }))
        const reply = yield* download
        assert.strictEqual(reply.status, status)
        assert.match(reply.headers["content-type"] ?? "", /application\/json/)
        assert.deepStrictEqual(jsonOf(reply), { message: "Internal server error", code: status, reason: "internal" })
      })
  )

  it.effect("ServerError defaults to 500; html: an HTML error page as a proxy sends", () =>
    Effect.gen(function*() {
      const { download, sandbox } = yield* ready
      yield* sandbox.injectFault("download", Sandbox.Fault.ServerError({}))
      yield* sandbox.injectFault("download", Sandbox.Fault.ServerError({ status: 502, html: true }))
      assert.strictEqual((yield* download).status, 500)
      const reply = yield* download
      assert.strictEqual(reply.status, 502)
      assert.match(reply.headers["content-type"] ?? "", /text\/html/)
      assert.include(reply.text, "<title>502 Bad Gateway</title>")
    }))

  it.effect("DropConnection on a file: Content-Length of the whole file, then only afterBytes bytes", () =>
    Effect.gen(function*() {
      const { sandbox } = yield* ready
      const { urls } = yield* taskWithUrls({ files: [{ rows: 1000 }] })
      const full = yield* rawGet(urls[0]!)
      yield* sandbox.injectFault("file", Sandbox.Fault.DropConnection({ afterBytes: 1234 }))
      const cut = yield* rawGet(urls[0]!)
      assert.strictEqual(cut.status, 200)
      assert.strictEqual(cut.headers["content-length"], String(full.body.length))
      assert.isFalse(cut.complete)
      assert.isTrue(cut.body.equals(full.body.subarray(0, 1234)))
      assert.strictEqual((yield* sandbox.requests).at(-1)!.fault, "DropConnection")
      assert.isTrue((yield* rawGet(urls[0]!)).complete)
    }))

  it.effect("DropConnection on a file cached on disk cuts it the same way", () =>
    Effect.gen(function*() {
      const { sandbox } = yield* ready
      const { id, urls } = yield* taskWithUrls({ files: [{ rows: 100_000 }] })
      const [info] = yield* sandbox.files(id)
      yield* rawGet(urls[0]!)
      yield* sandbox.injectFault("file", Sandbox.Fault.DropConnection({ afterBytes: 3_000_000 }))
      const cut = yield* rawGet(urls[0]!)
      assert.strictEqual(cut.headers["content-length"], String(info!.size))
      assert.isFalse(cut.complete)
      assert.strictEqual(cut.body.length, 3_000_000)
    }))

  it.effect("DropConnection on the API: the client's read of the body fails", () =>
    Effect.gen(function*() {
      const { id, sandbox, token } = yield* ready
      yield* sandbox.injectFault("download", Sandbox.Fault.DropConnection({ afterBytes: 10 }))
      const response = yield* (yield* HttpClient.HttpClient).execute(
        HttpClientRequest.get(`${sandbox.baseUrl}/tasks/${id}/download`).pipe(HttpClientRequest.bearerToken(token))
      )
      assert.strictEqual(response.status, 200)
      assert.strictEqual((yield* Effect.flip(response.text))._tag, "ResponseError")
    }))

  it.effect("MalformedJson: 200 with a JSON body that does not parse; WrongShape: valid JSON, not an array", () =>
    Effect.gen(function*() {
      const { download, sandbox } = yield* ready
      yield* sandbox.injectFault("download", Sandbox.Fault.MalformedJson())
      yield* sandbox.injectFault("download", Sandbox.Fault.WrongShape())
      const malformed = yield* download
      assert.strictEqual(malformed.status, 200)
      assert.match(malformed.headers["content-type"] ?? "", /application\/json/)
      assert.throws(() => JSON.parse(malformed.text))
      const wrong = yield* download
      assert.strictEqual(wrong.status, 200)
      assert.deepStrictEqual(jsonOf(wrong), { urls: [], status: "ok" })
    }))

  it.effect("ExpireEarly: URLs that expire at once by default; with after, at that time; then normal again", () =>
    Effect.gen(function*() {
      const { download, sandbox } = yield* ready
      const now = yield* Clock.currentTimeMillis
      yield* sandbox.injectFault("download", Sandbox.Fault.ExpireEarly({}))
      yield* sandbox.injectFault("download", Sandbox.Fault.ExpireEarly({ after: "1 minute" }))
      const early = jsonOf(yield* download) as Array<string>
      assert.strictEqual(param(early[0]!, "expires"), String(now))
      const refused = yield* rawGet(early[0]!)
      assert.strictEqual(refused.status, 403)
      assert.include(refused.body.toString("utf8"), "Request has expired")

      const minute = jsonOf(yield* download) as Array<string>
      assert.strictEqual(param(minute[0]!, "expires"), String(now + 60_000))
      const normal = jsonOf(yield* download) as Array<string>
      assert.strictEqual(param(normal[0]!, "expires"), String(now + 5 * 60_000))
      yield* TestClock.adjust(Duration.millis(59_999))
      assert.strictEqual((yield* rawGet(minute[0]!)).status, 200)
      yield* TestClock.adjust(Duration.millis(1))
      assert.strictEqual((yield* rawGet(minute[0]!)).status, 403)
      assert.strictEqual((yield* rawGet(normal[0]!)).status, 200)
    }))

  it.effect("ChangeEtag: the file becomes a new entity (new ETag and bytes, same size); If-Range gets it whole", () =>
    Effect.gen(function*() {
      const { sandbox } = yield* ready
      const { id, urls } = yield* taskWithUrls({ files: [{ rows: 500 }] })
      const before = yield* rawGet(urls[0]!)
      const [infoBefore] = yield* sandbox.files(id)
      yield* sandbox.injectFault("file", Sandbox.Fault.ChangeEtag())
      const resumed = yield* rawGet(urls[0]!, { range: "bytes=100-", "if-range": before.headers["etag"]! })
      assert.strictEqual(resumed.status, 200)
      assert.notStrictEqual(resumed.headers["etag"], before.headers["etag"])
      assert.strictEqual(resumed.body.length, before.body.length)
      assert.isFalse(resumed.body.equals(before.body))
      assert.isTrue(resumed.body.toString("latin1").startsWith(`${csvHeader}\n`))
      const [infoAfter] = yield* sandbox.files(id)
      assert.strictEqual(infoAfter!.sha256, sha256(resumed.body))
      assert.notStrictEqual(infoAfter!.sha256, infoBefore!.sha256)
      assert.strictEqual(infoAfter!.etag, resumed.headers["etag"])
      // The new entity stays: the next request, with its ETag, gets a range of it.
      const ranged = yield* rawGet(urls[0]!, { range: "bytes=100-199", "if-range": resumed.headers["etag"]! })
      assert.strictEqual(ranged.status, 206)
      assert.isTrue(ranged.body.equals(resumed.body.subarray(100, 200)))
    }))

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
    }))

  it.effect("faults on one route apply in the order they were injected", () =>
    Effect.gen(function*() {
      const { download, sandbox } = yield* ready
      yield* sandbox.injectFault("download", Sandbox.Fault.TooManyRequests({}))
      yield* sandbox.injectFault("download", Sandbox.Fault.ServerError({ status: 504 }))
      const statuses: Array<number> = []
      for (let i = 0; i < 3; i++) statuses.push((yield* download).status)
      assert.deepStrictEqual(statuses, [429, 504, 200])
    }))

  it.effect("a fault on the token route", () =>
    Effect.gen(function*() {
      const { sandbox } = yield* ready
      yield* sandbox.injectFault("token", Sandbox.Fault.ServerError({ status: 503, html: true }))
      const reply = yield* postToken(grant(sandbox))
      assert.strictEqual(reply.status, 503)
      assert.include(reply.text, "503 Service Temporarily Unavailable")
      assert.strictEqual((yield* postToken(grant(sandbox))).status, 200)
    }))

  it.effect("clearFaults removes every injected fault", () =>
    Effect.gen(function*() {
      const { download, sandbox } = yield* ready
      yield* sandbox.injectFault("download", Sandbox.Fault.TooManyRequests({}), { times: 100 })
      yield* sandbox.injectFault("download", Sandbox.Fault.ServerError({}), { rate: 1 })
      assert.strictEqual((yield* download).status, 429)
      yield* sandbox.clearFaults
      assert.deepStrictEqual([(yield* download).status, (yield* download).status], [200, 200])
    }))

  describe("at a seeded rate", () => {
    /** Which of `n` list calls the sandbox faults, at `rate` with `seed`. */
    const pattern = (schedule: Sandbox.FaultSchedule, n = 40) =>
      Effect.gen(function*() {
        const { sandbox, token } = yield* ready
        yield* sandbox.injectFault("tasks", Sandbox.Fault.TooManyRequests({}), schedule)
        const faulted: Array<boolean> = []
        for (let i = 0; i < n; i++) faulted.push((yield* apiGet("/tasks?size=1", token)).status === 429)
        const log = (yield* sandbox.requests).filter((r) => r.route === "tasks")
        assert.deepStrictEqual(log.map((r) => r.fault === "TooManyRequests"), faulted)
        return faulted
      })

    it.effect("the same seed faults the same requests every time; another seed differs", () =>
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

// SlowBody waits on real sockets between pieces, with `Effect.sleep`: live time, a sandbox of its own.
it.live("SlowBody: the whole body, in chunkSize pieces, one per delay", () =>
  Effect.gen(function*() {
    const sandbox = yield* Sandbox.Sandbox
    const { urls } = yield* taskWithUrls({ files: [{ rows: 40 }] })
    const full = yield* rawGet(urls[0]!)
    const pieces = Math.ceil(full.body.length / 1000)
    assert.isAtLeast(pieces, 4)
    yield* sandbox.injectFault("file", Sandbox.Fault.SlowBody({ delay: "20 millis", chunkSize: 1000 }))
    const start = yield* Clock.currentTimeMillis
    const slow = yield* rawGet(urls[0]!)
    const elapsed = (yield* Clock.currentTimeMillis) - start
    assert.isTrue(slow.complete)
    assert.isTrue(slow.body.equals(full.body))
    assert.strictEqual(slow.headers["content-length"], String(full.body.length))
    // One delay per piece: a body sent whole, or in bigger pieces, would arrive sooner.
    assert.isAtLeast(elapsed, pieces * 20 - 5)
  }).pipe(Effect.provide(sandboxLayer())))

// ---- the sandbox with a client

it.effect("layerClient: a TextRevealClient wired to the sandbox (its credentials, token URL and base URL)", () =>
  Effect.gen(function*() {
    const sandbox = yield* Sandbox.Sandbox
    const client = yield* TextRevealClient.TextRevealClient
    const id = yield* sandbox.createTask({ files: [{ name: "a.csv", rows: 1 }, { name: "b.csv", rows: 2 }] })
    const urls = yield* client.getDownloadUrls(id)
    assert.deepStrictEqual(urls.map((u) => u.fileName), ["a.csv", "b.csv"])
    assert.isTrue(urls.every((u) => u.url.startsWith(new URL(sandbox.baseUrl).origin)))
    assert.deepStrictEqual((yield* sandbox.requests).map((r) => `${r.route} ${r.status}`), [
      "token 200",
      "download 200"
    ])
  }).pipe(Effect.provide(Sandbox.layerClient({ seed: 3 }).pipe(Layer.provide(FetchHttpClient.layer)))))

it.effect("layerClient passes the client options on (here: no retries of a 503)", () =>
  Effect.gen(function*() {
    const sandbox = yield* Sandbox.Sandbox
    const id = yield* sandbox.createTask()
    yield* sandbox.injectFault("download", Sandbox.Fault.ServerError({ status: 503 }), { times: 5 })
    const error = yield* Effect.flip((yield* TextRevealClient.TextRevealClient).getDownloadUrls(id))
    assert.strictEqual(error._tag, "ServerError")
    assert.strictEqual((yield* sandbox.requests).filter((r) => r.route === "download").length, 1)
  }).pipe(
    Effect.provide(
      Sandbox.layerClient({ client: { transientRetry: false } }).pipe(Layer.provide(FetchHttpClient.layer))
    )
  ))

// Keeps `gzipSync` in use for a reader checking that `.gz` bytes given as content are served as given.
it.effect("content: gzip bytes given under a .gz name are served as given", () =>
  Effect.gen(function*() {
    const gz = gzipSync("a,b\n1,2\n")
    const { urls } = yield* taskWithUrls({ files: [{ name: "given.csv.gz", content: gz }] })
    const reply = yield* rawGet(urls[0]!)
    assert.isTrue(reply.body.equals(gz))
    assert.match(reply.headers["content-type"] ?? "", /^application\/gzip/)
  }).pipe(Effect.provide(sandboxLayer())))
