// Extracts every ```ts block of README.md into .readme-snippets/snippet-<n>.ts (n from 1, in README order),
// so that each can be type-checked on its own under the project's tsconfig:
//
//   node scripts/readme-snippets.mjs && npx tsc --noEmit -p .readme-snippets/tsconfig.json
//
// Each block must be self-contained, imports included. A block whose first line is
// `// not compiled: <reason>` is skipped (use sparingly). The folder is deleted first, and also holds:
// - tsconfig.json: extends ../tsconfig.json, includes only the snippets, allows unused locals;
// - snippets.json: for each block, its file (or null when skipped), the README line of its first code line
//   and the reason of a skip, to point a diagnostic at its line in README.md.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const readme = join(root, "README.md")
const outdir = join(root, ".readme-snippets")

const optOut = /^\s*\/\/\s*not compiled:\s*(.*)$/

/** The ```ts (or ```typescript) fenced blocks of a Markdown text, with the line of their first code line. */
const extractBlocks = (markdown) => {
  const lines = markdown.split(/\r?\n/)
  const blocks = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i])
    if (open === null) continue
    const [, indent, fence, info] = open
    const close = new RegExp(`^ {0,3}${fence[0] === "`" ? "`" : "~"}{${fence.length},}\\s*$`)
    let end = i + 1
    while (end < lines.length && !close.test(lines[end])) end++
    if (info === "ts" || info === "typescript") {
      blocks.push({
        line: i + 2,
        code: lines.slice(i + 1, end).map((line) => line.startsWith(indent) ? line.slice(indent.length) : line)
      })
    }
    i = end
  }
  return blocks
}

const blocks = extractBlocks(await readFile(readme, "utf8"))
await rm(outdir, { recursive: true, force: true })
await mkdir(outdir, { recursive: true })

const manifest = []
for (const [index, block] of blocks.entries()) {
  const n = index + 1
  const skip = optOut.exec(block.code[0] ?? "")
  if (skip !== null) {
    manifest.push({ snippet: n, file: null, readmeLine: block.line, skipped: skip[1].trim() || "(no reason given)" })
    continue
  }
  const file = `snippet-${n}.ts`
  // `export {}` after the block: a block without imports is a module too (its names stay its own), and
  // line k of the file is line k of the block.
  await writeFile(join(outdir, file), `${block.code.join("\n")}\nexport {}\n`)
  manifest.push({ snippet: n, file, readmeLine: block.line })
}

await writeFile(
  join(outdir, "tsconfig.json"),
  JSON.stringify(
    { extends: "../tsconfig.json", compilerOptions: { noUnusedLocals: false }, include: ["*.ts"] },
    null,
    2
  ) + "\n"
)
await writeFile(join(outdir, "snippets.json"), JSON.stringify(manifest, null, 2) + "\n")

const compiled = manifest.filter((entry) => entry.file !== null).length
console.log(`README.md: ${blocks.length} ts blocks, ${compiled} written to .readme-snippets/`)
for (const entry of manifest.filter((entry) => entry.file === null)) {
  console.log(`  snippet ${entry.snippet} (README.md line ${entry.readmeLine}) not compiled: ${entry.skipped}`)
}
