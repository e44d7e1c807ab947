/**
 * Cold start of the `textreveal` bin as a user installs it: the bundle is built, packed with `npm pack` and
 * unpacked into a scratch directory, then `node <unpacked>/dist/cli/textreveal.mjs --help` is timed beside
 * `node -e 0`, wall time from spawn to exit, alternating, in the same run. Target: at most twice `node -e 0`
 * plus 150 ms.
 *
 *   npx tsx bench/cliStartup.ts [--quick]
 */
import { execFileSync, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { compare, median, type Row } from "./lib.js"

const root = fileURLToPath(new URL("..", import.meta.url))

/**
 * The bin as `npm pack` ships it, unpacked into a scratch directory (removed by the caller). The library's
 * own build is not needed for it: only the bundle is built, and the pack skips `prepack`.
 */
const packedBin = (scratch: string): string => {
  const built = spawnSync(process.execPath, [path.join(root, "scripts/build-cli.mjs")], { stdio: "inherit" })
  if (built.status !== 0) throw new Error("scripts/build-cli.mjs failed")
  const npm = process.platform === "win32" ? "npm.cmd" : "npm"
  const output = execFileSync(npm, ["pack", "--ignore-scripts", "--silent", "--pack-destination", scratch], {
    cwd: root,
    encoding: "utf8"
  })
  const tarball = path.join(scratch, output.trim().split("\n").at(-1)!)
  execFileSync("tar", ["-xzf", tarball, "-C", scratch])
  const bin = path.join(scratch, "package/dist/cli/textreveal.mjs")
  if (!fs.existsSync(bin)) throw new Error(`${bin} is not in the packed tarball`)
  return bin
}

/** Milliseconds from spawn to exit of `node <args>`, output discarded. */
const wallMillis = (args: ReadonlyArray<string>) =>
  new Promise<number>((resolve, reject) => {
    const start = performance.now()
    const child = spawn(process.execPath, args, { stdio: "ignore" })
    child.on("error", reject)
    child.on("exit", (code) =>
      code === 0 ? resolve(performance.now() - start) : reject(new Error(`node ${args.join(" ")} exited ${code}`)))
  })

export const run = async (options: { readonly quick: boolean }): Promise<ReadonlyArray<Row>> => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "textreveal-cli-startup-"))
  try {
    return await measure(packedBin(scratch), options)
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true })
  }
}

const measure = async (bin: string, options: { readonly quick: boolean }): Promise<ReadonlyArray<Row>> => {
  const cliArgs = [bin, "--help"]
  const nodeArgs = ["-e", "0"]
  // Warm-up: the files into the page cache.
  await wallMillis(cliArgs)
  await wallMillis(nodeArgs)

  const times = { cli: [] as Array<number>, node: [] as Array<number> }
  /** Starts per second (bigger is better, as `compare` wants), keeping the time. */
  const side = (args: ReadonlyArray<string>, into: Array<number>) => async () => {
    const millis = await wallMillis(args)
    into.push(millis)
    return 1000 / millis
  }
  const rounds = options.quick ? 5 : 20
  const result = await compare(rounds, side(cliArgs, times.cli), side(nodeArgs, times.node))
  const cli = median(times.cli)
  const node = median(times.node)
  const limit = 2 * node + 150
  return [{
    measure: "CLI cold start: `textreveal --help` (packed bin)",
    baseline: "`node -e 0`",
    ...result,
    rounds,
    ours: cli,
    base: node,
    unit: "ms",
    target: "at most 2x node -e 0 + 150 ms",
    met: cli <= limit,
    note: `${cli.toFixed(0)} ms vs ${node.toFixed(0)} ms; limit ${limit.toFixed(0)} ms`
  }]
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await run({ quick: process.argv.includes("--quick") })
  process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
}
