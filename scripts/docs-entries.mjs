/**
 * Writes the API site's entry modules: one per section of docs/reference/groups.json
 * (Setup, Detect, Align, Embed, Identify, Train, Evaluate, I/O, Errors), each re-exporting
 * its part of the package's public API by the package's own names (`tfjs-facenet`,
 * `tfjs-facenet/node`, …), so that the site is organised by what users do rather than by
 * entry point. Also writes exports.json (export name → the package entries that export it),
 * which docs/reference/typedoc-plugin.mjs uses to say where to import each thing from.
 *
 * Fails (exit 1, naming the exports) when an export of a package entry is in no section and
 * not declared internal, or when the file names something the entries do not export.
 *
 *   node scripts/docs-entries.mjs [--out docs/reference/entries]
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The package entries, in the order an import is suggested (browser-safe first). */
export const PACKAGE_ENTRIES = {
  'tfjs-facenet': 'src/index.ts',
  'tfjs-facenet/mtcnn': 'src/mtcnn/index.ts',
  'tfjs-facenet/io': 'src/io/index.ts',
  'tfjs-facenet/node': 'src/node/index.ts',
};

/**
 * Every export of every package entry: name → { entries, file } where `file` is the
 * repository path of the declaration. Throws when one name means two different things.
 */
export function packageExports() {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  const files = Object.values(PACKAGE_ENTRIES).map((f) => join(root, f));
  const program = ts.createProgram(files, config.options);
  const checker = program.getTypeChecker();
  const found = new Map();
  for (const [entry, file] of Object.entries(PACKAGE_ENTRIES)) {
    const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(join(root, file)));
    for (const s of checker.getExportsOfModule(moduleSymbol)) {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
      const decl = target.declarations?.[0];
      if (!decl) throw new Error(`${entry}: export ${s.name} has no declaration`);
      const record = found.get(s.name);
      if (record && record.symbol !== target) {
        throw new Error(`export ${s.name} of ${entry} is not the ${s.name} of ${record.entries.join(', ')}`);
      }
      const rec = record ?? {
        symbol: target,
        entries: [],
        file: relative(root, decl.getSourceFile().fileName),
        typeOnly: (target.flags & ts.SymbolFlags.Value) === 0,
      };
      rec.entries.push(entry);
      found.set(s.name, rec);
    }
  }
  return new Map([...found].map(([name, { entries, file, typeOnly }]) => [name, { entries, file, typeOnly }]));
}

/** Reads docs/reference/groups.json. */
export function readGroups() {
  return JSON.parse(readFileSync(join(root, 'docs', 'reference', 'groups.json'), 'utf8'));
}

/**
 * Places every export in a section (by `names`, else the longest `files` prefix of its
 * source file) or the internal list. Returns the sections' names and the problems found.
 */
export function assignSections(exports, groups) {
  const sections = new Map(groups.sections.map((s) => [s.module, []]));
  const problems = [];
  const byName = new Map();
  for (const s of groups.sections) for (const n of s.names ?? []) byName.set(n, s.module);
  for (const n of [...byName.keys(), ...Object.keys(groups.internal)]) {
    if (!exports.has(n)) problems.push(`docs/reference/groups.json names ${n}, which no package entry exports`);
  }
  for (const [name, { file, entries }] of exports) {
    if (name in groups.internal) {
      if (byName.has(name)) problems.push(`${name} is both internal and in section ${byName.get(name)}`);
      continue;
    }
    let section = byName.get(name);
    if (!section) {
      let best = '';
      for (const s of groups.sections) {
        for (const prefix of s.files) {
          if (file.startsWith(prefix) && prefix.length > best.length) {
            best = prefix;
            section = s.module;
          }
        }
      }
    }
    if (!section) problems.push(`${name} (${file}, exported by ${entries.join(', ')}) is in no section of docs/reference/groups.json and not internal`);
    else sections.get(section).push(name);
  }
  return { sections, problems };
}

/** A file name for a section's module. */
export function sectionSlug(module) {
  return module.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** The text of one section's entry module. */
function moduleText(section, names, exports) {
  const lines = [
    '/**',
    ` * ${section.summary}`,
    ' *',
    ' * Each item says which package entry to import it from; `tfjs-facenet/node` re-exports',
    ' * everything of `tfjs-facenet`.',
    ' * @packageDocumentation',
    ` * @module ${section.module}`,
    ' */',
    '// Generated by scripts/docs-entries.mjs from docs/reference/groups.json; do not edit.',
  ];
  // Re-export each name from the first entry that has it (the most portable import).
  const byEntry = new Map();
  for (const name of names.sort()) {
    const entry = exports.get(name).entries.slice().sort(
      (a, b) => Object.keys(PACKAGE_ENTRIES).indexOf(a) - Object.keys(PACKAGE_ENTRIES).indexOf(b),
    )[0];
    byEntry.set(entry, [...(byEntry.get(entry) ?? []), name]);
  }
  for (const [entry, list] of byEntry) {
    const specifiers = list.map((n) => (exports.get(n).typeOnly ? `type ${n}` : n));
    lines.push(`export { ${specifiers.join(', ')} } from '${entry}';`);
  }
  return lines.join('\n') + '\n';
}

/** Writes the entry modules and exports.json into `out`; returns the problems (empty = done). */
export function writeEntries(out) {
  const exports = packageExports();
  const groups = readGroups();
  const { sections, problems } = assignSections(exports, groups);
  if (problems.length) return problems;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  groups.sections.forEach((s, i) => {
    const names = sections.get(s.module);
    if (names.length === 0) problems.push(`section ${s.module} is empty`);
    writeFileSync(join(out, `${String(i + 1).padStart(2, '0')}-${sectionSlug(s.module)}.ts`), moduleText(s, names, exports));
  });
  const json = Object.fromEntries([...exports].map(([n, e]) => [n, e.entries]));
  writeFileSync(join(out, 'exports.json'), JSON.stringify({ entries: Object.keys(PACKAGE_ENTRIES), exports: json }, null, 1) + '\n');
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const out = resolve(i > 0 ? process.argv[i + 1] : join(root, 'docs', 'reference', 'entries'));
  const problems = writeEntries(out);
  if (problems.length) {
    for (const p of problems) console.error(`docs-entries: ${p}`);
    process.exit(1);
  }
}
