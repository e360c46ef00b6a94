/**
 * The API site, built as `npm run docs` builds it (scripts/docs-entries.mjs writes one entry
 * module per section of docs/reference/groups.json, then typedoc with treatWarningsAsErrors
 * and the guides in docs/guides) into a temporary folder (not docs/api): it must build with
 * no warning, every guide must become a page whose relative links and pictures resolve, every
 * export of the package entries must be documented exactly once unless declared internal (and
 * no internal one listed), and thrown error types must show as links to the error classes.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'facenet-docs-'));
const guidesDir = join(root, 'docs', 'guides');

let build: { code: number; output: string };
let listing: { code: number; output: string; stdout?: string } = { code: 1, output: 'not run' };

function run(args: string[]): Promise<{ code: number; output: string; stdout: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      args,
      // NO_COLOR: plain log lines, so that the checks below read them as written.
      { cwd: root, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, output: `${stdout}\n${stderr}`, stdout });
      },
    );
  });
}

beforeAll(async () => {
  const entries = await run([join(root, 'scripts', 'docs-entries.mjs')]);
  if (entries.code !== 0) {
    build = entries;
    return;
  }
  const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
  const [site, listed] = await Promise.all([
    run([typedoc, '--out', out, '--json', join(out, 'project.json')]),
    run(['--input-type=module', '-e', LIST_EXPORTS]),
  ]);
  build = site;
  listing = listed;
  // Two TypeScript programs (the entries' exports, then typedoc's): ~25 s on an idle machine,
  // several minutes on a loaded one.
}, 900_000);

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

/** The `title:` of a guide's front matter. */
function guideTitle(file: string): string {
  const text = readFileSync(join(guidesDir, file), 'utf8');
  const m = /^---\n[\s\S]*?^title:\s*(.+?)\s*$[\s\S]*?^---$/m.exec(text);
  if (!m) throw new Error(`${file}: no front matter with a title`);
  return m[1];
}

describe('API documentation site', () => {
  it('builds with typedoc with no warnings and no errors', () => {
    // Strip any colour codes that slip through, then look for typedoc's own markers.
    const log = build.output.replace(/\x1b\[[0-9;]*m/g, '');
    const problems = log.split('\n').filter((l) => /\[(warning|error)\]/.test(l) && !/Found 0 errors and 0 warnings/.test(l));
    expect(problems, log).toEqual([]);
    expect(build.code, log).toBe(0);
    expect(existsSync(join(out, 'index.html'))).toBe(true);
  });

  it('renders every guide as a page, and every relative link of the guides resolves', () => {
    const guides = readdirSync(guidesDir).filter((f) => f.endsWith('.md'));
    expect(guides.length).toBeGreaterThanOrEqual(9);
    for (const guide of guides) {
      // typedoc names a document's page after its title, spaces as underscores.
      const page = join(out, 'documents', `${guideTitle(guide).replace(/ /g, '_')}.html`);
      expect(existsSync(page), `${guide} → ${page}`).toBe(true);
      const html = readFileSync(page, 'utf8');
      const targets = [...html.matchAll(/href="([^"#:]+)(#[^"]*)?"/g)].map((m) => m[1]).filter((h) => h !== '');
      // A guide that links to API pages (all of ours do) gets links into the reference.
      expect(targets.some((t) => /^\.\.\/(functions|classes|interfaces|variables|types)\//.test(t)), guide).toBe(true);
      for (const t of targets) {
        expect(existsSync(resolve(dirname(page), decodeURIComponent(t))), `${guide}: link ${t}`).toBe(true);
      }
      // Pictures: typedoc copies the files a guide shows into the site's media folder.
      const pictures = [...html.matchAll(/<img [^>]*src="([^"#:]+)"/g)].map((m) => m[1]);
      const shown = [...readFileSync(join(guidesDir, guide), 'utf8').matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)];
      expect(pictures.length, guide).toBe(shown.length);
      for (const p of pictures) expect(existsSync(resolve(dirname(page), decodeURIComponent(p))), `${guide}: picture ${p}`).toBe(true);
    }
  });
});

/**
 * Every export of every package entry (name → entries), worked out here from package.json
 * `exports` and the tsconfig `paths` that map those names to the sources (not from the docs
 * script's own list). In a child process: building the TypeScript program takes a minute or
 * more on a loaded machine and would block the test worker.
 */
const LIST_EXPORTS = `
import ts from 'typescript';
import { readFileSync } from 'node:fs';
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const entries = Object.keys(pkg.exports).filter((k) => k !== './package.json')
  .map((k) => (k === '.' ? 'tfjs-facenet' : 'tfjs-facenet/' + k.slice(2)));
const config = ts.getParsedCommandLineOfConfigFile('tsconfig.json', {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic() {} });
const paths = config.options.paths;
const unmapped = entries.filter((e) => !paths[e]);
const files = entries.filter((e) => paths[e]).map((e) => ts.sys.resolvePath(paths[e][0]));
const program = ts.createProgram(files, config.options);
const checker = program.getTypeChecker();
const found = {};
files.forEach((f, i) => {
  for (const s of checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(f)))) {
    (found[s.name] ??= []).push(entries[i]);
  }
});
console.log(JSON.stringify({ unmapped, exports: found }));
`;

interface JsonReflection {
  name: string;
  children?: JsonReflection[];
  signatures?: JsonReflection[];
  comment?: { blockTags?: { tag: string; typeAnnotation?: string; content: { kind: string; tag?: string; text: string }[] }[] };
}

describe('API documentation site: sections', () => {
  const project = (): { children: JsonReflection[] } => JSON.parse(readFileSync(join(out, 'project.json'), 'utf8'));
  const groups = JSON.parse(readFileSync(join(root, 'docs', 'reference', 'groups.json'), 'utf8')) as {
    sections: { module: string }[];
    internal: Record<string, string>;
  };

  it('has one module per task, in the order of docs/reference/groups.json', () => {
    expect(build.code, build.output).toBe(0);
    const modules = project().children.map((m) => m.name);
    expect(modules).toEqual(groups.sections.map((s) => s.module));
    for (const task of ['Detect', 'Align', 'Embed', 'Identify', 'Train', 'Evaluate', 'I/O and model conversion']) {
      expect(modules).toContain(task);
    }
  });

  it('documents every export of the package entries once, and none declared internal', () => {
    expect(build.code, build.output).toBe(0);
    const documented = project().children.flatMap((m) => (m.children ?? []).map((c) => c.name));
    expect(listing.code, listing.output).toBe(0);
    const { unmapped, exports } = JSON.parse(listing.stdout!) as { unmapped: string[]; exports: Record<string, string[]> };
    // A package entry the sources do not map would go undocumented unnoticed.
    expect(unmapped).toEqual([]);
    const exported = new Map(Object.entries(exports));
    const internal = new Set(Object.keys(groups.internal));
    const missing = [...exported.keys()].filter((n) => !internal.has(n) && !documented.includes(n));
    expect(missing, 'exported but not on the site').toEqual([]);
    expect(documented.filter((n) => internal.has(n)), 'internal but listed').toEqual([]);
    expect(documented.filter((n) => !exported.has(n)), 'listed but not exported').toEqual([]);
    expect(documented.filter((n, i) => documented.indexOf(n) !== i), 'listed twice').toEqual([]);
    expect([...internal].filter((n) => !exported.has(n)), 'internal list names a non-export').toEqual([]);
    // Known items land in their task's section.
    const sectionOf = (name: string) => project().children.find((m) => m.children?.some((c) => c.name === name))?.name;
    expect(sectionOf('loadMtcnn')).toBe('Detect');
    expect(sectionOf('alignFace')).toBe('Align');
    expect(sectionOf('loadEmbedder')).toBe('Embed');
    expect(sectionOf('FaceRecognizer')).toBe('Identify');
    expect(sectionOf('train')).toBe('Train');
    expect(sectionOf('evaluateLfw')).toBe('Evaluate');
    expect(sectionOf('readTorchFile')).toBe('I/O and model conversion');
    expect(sectionOf('NoFaceError')).toBe('Errors');
    expect(sectionOf('argsortNumpy')).toBeUndefined();
  });

  it('shows thrown error types as links to the error classes', () => {
    expect(build.code, build.output).toBe(0);
    const throwsTags: { owner: string; content: { kind: string; tag?: string; text: string }[]; typeAnnotation?: string }[] = [];
    const visit = (r: JsonReflection, path: string) => {
      for (const t of r.comment?.blockTags ?? []) if (t.tag === '@throws') throwsTags.push({ owner: path, ...t });
      for (const c of [...(r.children ?? []), ...(r.signatures ?? [])]) visit(c, `${path}.${c.name}`);
    };
    for (const m of project().children) visit(m, m.name);
    // Far from all thrown types are lost: the sources have dozens of `@throws {XError}`.
    const linked = throwsTags.filter((t) => t.content.some((p) => p.kind === 'inline-tag' && /Error$/.test(p.text)));
    expect(linked.length).toBeGreaterThan(30);
    expect(throwsTags.filter((t) => t.typeAnnotation !== undefined).map((t) => t.owner)).toEqual([]);
    const braced = throwsTags.filter((t) => t.content.some((p) => p.kind === 'text' && /\{[A-Z]\w*Error\}/.test(p.text)));
    expect(braced.map((t) => t.owner), '{XError} left as text').toEqual([]);
    const page = readFileSync(join(out, 'functions', 'Setup.loadImage.html'), 'utf8');
    const throwsHtml = page.slice(page.indexOf('tsd-tag-throws'));
    expect(throwsHtml).toContain('href="../classes/Errors.ImageDecodeError.html"');
    expect(throwsHtml).toContain('href="../classes/Errors.FileNotFoundError.html"');
    // And says where to import it from.
    expect(page.replace(/<[^>]+>/g, '')).toContain('import { loadImage } from &#39;tfjs-facenet&#39;;');
  });
});

describe('API documentation site: pictures', () => {
  it('shows the annotated group photo, the ROC curve and the training curve, each under 300 KB', () => {
    expect(build.code, build.output).toBe(0);
    const page = readFileSync(join(out, 'documents', `${guideTitle('pictures.md').replace(/ /g, '_')}.html`), 'utf8');
    const sources = [...page.matchAll(/<img [^>]*src="([^"]+)"/g)].map((m) => decodeURIComponent(m[1]));
    for (const picture of [/group-bbt\d\.png$/, /lfw-roc-dlib(-log)?\.svg$/, /distill-curve\.png$/]) {
      expect(sources.some((s) => picture.test(s)), `${picture}`).toBe(true);
    }
    const images = join(root, 'docs', 'images');
    for (const f of readdirSync(images)) {
      expect(statSync(join(images, f)).size, f).toBeLessThan(300 * 1024);
    }
  });
});
