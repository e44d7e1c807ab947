/**
 * The `textreveal` bin. Help, the version and the usage mistakes found before any command is parsed are
 * answered here, without loading Effect: `--help` starts about as fast as `node` itself. Anything else loads
 * the program (`run.ts`, a chunk of its own in the bundle).
 *
 * @internal
 */
import * as Argv from "./argv.js"

const action = Argv.decide(process.argv.slice(2), {
  columns: process.stdout.isTTY === true ? process.stdout.columns : undefined,
  stdinIsTerminal: process.stdin.isTTY === true
})

switch (action._tag) {
  case "Print":
    // A reader that went away (`| head`) is no failure.
    process.stdout.on("error", () => {})
    process.stdout.write(action.text)
    break
  case "Usage":
    process.stderr.write(`${action.lines.join("\n")}\n`)
    process.exitCode = 2
    break
  case "Run":
    void import("./run.js").then((run) => run.main())
}
