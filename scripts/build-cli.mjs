// Bundles the `textreveal` bin (src/cli/main.ts) into ES modules that run with plain node and start fast:
// every dependency is inside (a tsc-built bin importing effect and @effect/cli starts 4-5x slower), and
// what only some commands need (Undici, the sandbox's HTTP server) is split into chunks loaded on demand.
//
//   node scripts/build-cli.mjs                -> dist/cli/textreveal.mjs (+ dist/cli/chunks/)
//   node scripts/build-cli.mjs --outdir DIR   -> DIR/textreveal.mjs instead (tests build a copy of their own)
//   node scripts/build-cli.mjs --metafile     -> also textreveal.meta.json (what takes the room)
//
// A rebuild never shows a running `textreveal` a half-written file: each file is written under a temporary
// name and renamed into place (chunks first, content-hashed, then the entry), and only then are chunks no
// longer referenced removed.
import { build } from "esbuild"
import { chmod, mkdir, readdir, rename, rm, writeFile } from "node:fs/promises"
import { basename, dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const outdirFlag = process.argv.indexOf("--outdir")
const outdir = outdirFlag === -1 ? join(root, "dist/cli") : resolve(process.argv[outdirFlag + 1] ?? "")
const entry = join(outdir, "textreveal.mjs")

const result = await build({
  entryPoints: { textreveal: join(root, "src/cli/main.ts") },
  outdir,
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  legalComments: "none",
  metafile: process.argv.includes("--metafile"),
  logLevel: "warning",
  write: false,
  banner: {
    // The shebang, and `require` for the CommonJS dependencies bundled into an ES module.
    js: "#!/usr/bin/env node\nimport { createRequire as __createRequire } from \"node:module\";\n" +
      "const require = __createRequire(import.meta.url);"
  }
})

const place = async (file) => {
  await mkdir(dirname(file.path), { recursive: true })
  const temporary = `${file.path}.${process.pid}.tmp`
  await writeFile(temporary, file.contents)
  if (file.path === entry) await chmod(temporary, 0o755)
  await rename(temporary, file.path)
}
const files = result.outputFiles.filter((file) => file.path !== entry)
await Promise.all(files.map(place))
await place(result.outputFiles.find((file) => file.path === entry))

const chunks = join(outdir, "chunks")
const current = new Set(files.map((file) => basename(file.path)))
for (const name of await readdir(chunks)) {
  if (!current.has(name) && !name.endsWith(".tmp")) await rm(join(chunks, name), { force: true })
}
if (result.metafile !== undefined) {
  await writeFile(join(outdir, "textreveal.meta.json"), JSON.stringify(result.metafile))
}
