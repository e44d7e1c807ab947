/**
 * The ```ts blocks of README.md and of each docs/*.md compile, each on its own (imports included), under the
 * project's tsconfig: `scripts/readme-snippets.mjs` writes them to `.readme-snippets/`, then one `tsc` run
 * checks that folder. A failure names each error's line in its document (`docs/client.md:88:5`) and its
 * snippet; the folder is kept to look into.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { readFileSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const folder = join(root, ".readme-snippets")
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")

interface Snippet {
  readonly document: string
  readonly snippet: number
  readonly file: string | null
  readonly line: number
}

/** Points each diagnostic in a snippet at its line in its document, e.g. `docs/cli.md:56:24 (snippet 2, line 3)`. */
const located = (output: string): string => {
  const snippets: ReadonlyArray<Snippet> = JSON.parse(readFileSync(join(folder, "snippets.json"), "utf8"))
  return output.replace(/^\.readme-snippets[\\/]([\w-]+\.ts)\((\d+),(\d+)\)/gm, (found, file, line, column) => {
    const snippet = snippets.find((s) => s.file === file)
    return snippet === undefined
      ? found
      : `${snippet.document}:${snippet.line + Number(line) - 1}:${column} (snippet ${snippet.snippet}, line ${line})`
  })
}

/**
 * Runs `node args` in the project's root and gives its exit code and output. Never synchronously: a blocked
 * event loop would stop the test worker answering vitest for as long as the child runs (a minute or more on a
 * busy machine).
 */
const node = (args: ReadonlyArray<string>) =>
  new Promise<{ readonly status: number; readonly stdout: string; readonly stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      args,
      { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) =>
        resolve({ status: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout, stderr })
    )
  })

describe("README.md and docs/*.md", () => {
  it("every ts block compiles on its own under the project's tsconfig", async () => {
    const extract = await node(["scripts/readme-snippets.mjs"])
    assert.strictEqual(extract.status, 0, `scripts/readme-snippets.mjs failed:\n${extract.stdout}${extract.stderr}`)
    const check = await node([tsc, "--noEmit", "--pretty", "false", "-p", ".readme-snippets/tsconfig.json"])
    assert.strictEqual(
      check.status,
      0,
      `tsc -p .readme-snippets/tsconfig.json failed (the snippets are in .readme-snippets/):\n${
        located(`${check.stdout}${check.stderr}`)
      }`
    )
    rmSync(folder, { recursive: true, force: true })
  }, 120_000)
})
