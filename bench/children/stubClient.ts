/**
 * A `TextRevealClient` whose task has the given files: the file benchmarks measure the file path, not the API.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { DownloadUrl } from "../../src/DownloadUrl.js"
import * as TextRevealClient from "../../src/TextRevealClient.js"
import { nameOf } from "./report.js"

export const taskId = "f47ac10b-58cc-4372-a567-0e02b2c3d479"

export const stubClient = (urls: ReadonlyArray<string>): TextRevealClient.Service =>
  TextRevealClient.TextRevealClient.of({
    getDownloadUrls: () =>
      Effect.map(
        DateTime.now,
        (now) =>
          urls.map((url) =>
            new DownloadUrl({ url, fileName: nameOf(url), expiresAt: DateTime.addDuration(now, Duration.minutes(5)) })
          )
      ),
    getTaskStatus: () => Effect.succeed("completed" as const),
    listTasks: () => Stream.empty,
    startExport: () => Effect.dieMessage("stubClient starts no export"),
    // The file benchmarks make no request of the API's own.
    client: HttpClient.makeWith<never, never, never, never>(
      (request) => Effect.flatMap(request, (sent) => Effect.die(`stubClient makes no ${sent.method} ${sent.url}`)),
      Effect.succeed
    )
  })
