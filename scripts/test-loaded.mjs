// `npm test` on a busy machine: starts CPU-bound processes (16 by default), runs the suite beside them (once by
// default), prints each run's result, duration and load averages, then stops the processes it started.
//
//   node scripts/test-loaded.mjs [--busy N] [--runs N] [-- <vitest arguments>]
//
// Exits with the first failing run's code (0 when every run passed).
import { spawn } from "node:child_process"
import * as os from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const args = process.argv.slice(2)
const separator = args.indexOf("--")
const own = separator === -1 ? args : args.slice(0, separator)
const vitestArgs = separator === -1 ? [] : args.slice(separator + 1)
const flag = (name, fallback) => {
  const at = own.indexOf(name)
  return at === -1 ? fallback : Number(own[at + 1])
}
const busy = flag("--busy", 16)
const runs = flag("--runs", 1)

const loads = () => os.loadavg().map((load) => load.toFixed(1)).join(" ")

// Each a plain busy loop in its own process, at the same priority as the suite.
const hogs = Array.from({ length: busy }, () => spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }))
const stop = () => {
  for (const hog of hogs) if (hog.exitCode === null && hog.signalCode === null) hog.kill("SIGKILL")
}
process.on("exit", stop)
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stop()
    process.exit(130)
  })
}

const vitest = join(root, "node_modules/vitest/vitest.mjs")
const runOnce = () =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [vitest, "run", ...vitestArgs], { cwd: root, stdio: "inherit" })
    child.on("close", (code) => resolve(code ?? 1))
  })

let failed = 0
const summary = []
for (let run = 1; run <= runs; run++) {
  const before = loads()
  const started = performance.now()
  const code = await runOnce()
  const seconds = (performance.now() - started) / 1000
  summary.push(
    `run ${run}/${runs}: ${code === 0 ? "passed" : `failed (exit ${code})`} in ${seconds.toFixed(1)} s; ` +
      `load average (1, 5, 15 min) before ${before}, after ${loads()}; ${busy} busy processes, ${os.cpus().length} cores`
  )
  process.stdout.write(`\n${summary.at(-1)}\n`)
  if (code !== 0 && failed === 0) failed = code
}
stop()
process.stdout.write(`\n${summary.join("\n")}\n`)
process.exit(failed)
