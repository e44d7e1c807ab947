/**
 * Cold start of the `textreveal` bin: `node dist/cli/textreveal.mjs --help` (the esbuild bundle, built
 * first) beside `node -e 0`, wall time from spawn to exit, alternating, in the same run. Target: at most
 * twice `node -e 0` plus 150 ms.
 *
 *   npx tsx bench/cliStartup.ts [--quick]
 */
import { spawn, spawnSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { compare, median, type Row } from "./lib.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const bin = path.join(root, "dist/cli/textreveal.mjs")

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
  const built = spawnSync(process.execPath, [path.join(root, "scripts/build-cli.mjs")], { stdio: "inherit" })
  if (built.status !== 0) throw new Error("scripts/build-cli.mjs failed")
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
    measure: "CLI cold start: `textreveal --help`",
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
