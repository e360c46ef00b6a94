/**
 * The API site: `typedoc` (typedoc.json: the four entries plus the guides in docs/guides, with
 * treatWarningsAsErrors) must build with no warning, every guide must become a page, and
 * every relative link of the guide pages must point at a file that was generated.
 * Builds into a temporary folder (not docs/api).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'facenet-docs-'));
const guidesDir = join(root, 'docs', 'guides');

let build: { code: number; output: string };

beforeAll(async () => {
  const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
  build = await new Promise((done) => {
    execFile(
      process.execPath,
      [typedoc, '--out', out],
      // NO_COLOR: plain log lines, so that the checks below read them as written.
      { cwd: root, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        done({ code, output: `${stdout}\n${stderr}` });
      },
    );
  });
});

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
    }
  });
});
