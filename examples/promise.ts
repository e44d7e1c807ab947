/**
 * The library without Effect: a task's download URLs, its files downloaded with progress, and its first rows,
 * with the credentials of the environment.
 *
 *   TEXTREVEAL_TOKEN=... npx tsx examples/promise.ts <task-id> [directory]
 *   TEXTREVEAL_USERNAME=... TEXTREVEAL_PASSWORD=... npx tsx examples/promise.ts <task-id> [directory]
 *
 * (`TEXTREVEAL_BASE_URL` and `TEXTREVEAL_TOKEN_URL` point it elsewhere, e.g. at `npm run sandbox`.) The
 * process ends on its own once the client is closed: nothing calls `process.exit`.
 */
import { createClient, TaskResultsError, TextRevealError } from "effect-textreveal/promise"
import * as path from "node:path"

const [taskId, directory = taskId] = process.argv.slice(2)
if (taskId === undefined) {
  console.error("usage: tsx examples/promise.ts <task-id> [directory]")
  process.exit(2)
}

// Closed at the end of the block, whatever happens: its connections then no longer hold the process.
await using client = createClient()
const controller = new AbortController()
process.once("SIGINT", () => controller.abort(new Error("interrupted")))

try {
  await client.awaitCompletion(taskId, { timeout: "2 hours", signal: controller.signal })
  for (const url of await client.getDownloadUrls(taskId)) {
    console.log(`${url.fileName}  ${url.url.split("?")[0]}`)
  }

  const files = await client.download(taskId, {
    directory: path.resolve(directory!),
    signal: controller.signal,
    onProgress: (progress) => {
      if (process.stderr.isTTY) process.stderr.write(`\r  ${progress.totalBytes} bytes (${progress.fileName})\x1b[K`)
    }
  })
  if (process.stderr.isTTY) process.stderr.write("\r\x1b[K")
  for (const file of files) console.log(`${file.path}  ${file.bytes} bytes  sha256 ${file.sha256}`)

  console.log("First rows:")
  let count = 0
  for await (const row of client.rows(taskId, { signal: controller.signal })) {
    console.log(`  ${JSON.stringify(row)}`)
    if (++count === 3) break
  }
} catch (error) {
  if (error instanceof TextRevealError.NotFound) console.error(`No task ${taskId} for these credentials`)
  else if (error instanceof TaskResultsError.TaskFailed) console.error(`Task ${taskId} failed`)
  else console.error(String(error))
  process.exitCode = 1
}
