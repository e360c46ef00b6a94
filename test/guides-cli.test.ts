/**
 * The guides and README use the command-line tool as it ships: every `tfjs-facenet …` line
 * of their code blocks names a command (and sub-command) that exists, only options that
 * command or the program has, and for `--model` a shipped model's name or, for a path into
 * the package's `models/`, a folder that is there. The commands are read from the CLI's own
 * command modules (registered on a fresh program, nothing run).
 */
import { describe, it, expect } from 'vitest';
import { Command } from 'commander';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RECOGNITION_MODELS } from '../src/recognition/models.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function cliProgram(): Promise<Command> {
  const program = new Command('tfjs-facenet').option('--backend <name>').option('--verbose').version('0', '-V, --version');
  const dir = join(root, 'src', 'cli', 'commands');
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const mod = (await import(join(dir, f))) as { register?: (p: Command) => void };
    mod.register?.(program);
  }
  return program;
}

/** The `tfjs-facenet …` lines of the fenced code blocks of a Markdown text, with their line numbers. */
function cliLines(markdown: string): { line: number; text: string }[] {
  const found: { line: number; text: string }[] = [];
  let inBlock = false;
  markdown.split('\n').forEach((l, i) => {
    if (l.trimStart().startsWith('```')) inBlock = !inBlock;
    else if (inBlock) {
      const m = /^\s*(?:\$ )?(?:npx )?(?:tfjs-facenet|node dist\/cli\.js)\s+(.*)$/.exec(l);
      if (m) found.push({ line: i + 1, text: m[1].replace(/\s+#.*$/, '') });
    }
  });
  return found;
}

/**
 * What is wrong with one command line (empty: nothing). `made`: folders that earlier lines of
 * the same file create (`convert … <out-dir>`, `train --out <dir>` → `<dir>/model`).
 */
function problems(program: Command, text: string, made: Set<string> = new Set()): string[] {
  const tokens = text.split(/\s+/).filter(Boolean);
  const globalFlags = program.options.map((o) => o.long);
  const out: string[] = [];
  let i = 0;
  while (tokens[i]?.startsWith('--')) i += program.options.find((o) => o.long === tokens[i])?.required ? 2 : 1;
  let cmd = program.commands.find((c) => c.name() === tokens[i]);
  if (!cmd) return tokens[i] === undefined || tokens[i] === '--help' || tokens[i] === '--version' ? [] : [`no command '${tokens[i]}'`];
  const sub = cmd.commands.find((c) => c.name() === tokens[i + 1]);
  if (sub) cmd = sub;
  const flags = new Set([...cmd.options.map((o) => o.long), ...globalFlags, '--help']);
  tokens.forEach((t, k) => {
    const flag = t.split('=')[0];
    if (flag.startsWith('--') && !flags.has(flag)) out.push(`${cmd!.name()} has no option ${flag}`);
    if (flag === '--model') {
      const value = t.includes('=') ? t.split('=')[1] : tokens[k + 1];
      if (!value || value.startsWith('<') || /^[A-Z_-]+$/.test(value)) return; // a placeholder
      if (!value.includes('/')) {
        if (!Object.hasOwn(RECOGNITION_MODELS, value)) out.push(`--model ${value}: no shipped model of that name`);
      } else if (value.startsWith('models/') && !made.has(value) && !existsSync(join(root, value))) {
        out.push(`--model ${value}: the package has no such folder`);
      }
    }
  });
  if (cmd.name() === 'convert') made.add(tokens.filter((t) => !t.startsWith('-')).at(-1)!);
  const outDir = tokens.indexOf('--out');
  if (cmd.name() === 'train' && outDir >= 0) made.add(`${tokens[outDir + 1]}/model`);
  return out;
}

describe('guides and README use the shipped CLI', () => {
  it('every tfjs-facenet line names real commands, options and models', async () => {
    const program = await cliProgram();
    expect(program.commands.map((c) => c.name())).toEqual(expect.arrayContaining(['detect', 'enroll', 'identify', 'eval-lfw', 'weights']));
    const files = [
      ...readdirSync(join(root, 'docs', 'guides')).filter((f) => f.endsWith('.md')).map((f) => join('docs', 'guides', f)),
      'README.md',
    ];
    const found: string[] = [];
    let checked = 0;
    for (const file of files) {
      const made = new Set<string>();
      for (const { line, text } of cliLines(readFileSync(join(root, file), 'utf8'))) {
        checked++;
        for (const p of problems(program, text, made)) found.push(`${file}:${line}: ${p}  (${text})`);
      }
    }
    expect(found).toEqual([]);
    expect(checked).toBeGreaterThan(25);
  });

  it('catches drift (the check is not vacuous)', async () => {
    const program = await cliProgram();
    expect(problems(program, 'identify --gallery g.gallery --top-k 3 group.jpg')).toEqual([]);
    expect(problems(program, 'weights verify')).toEqual([]);
    expect(problems(program, 'enroll --model models/facenet --gallery g people/')).toEqual(['--model models/facenet: the package has no such folder']);
    const made = new Set<string>();
    expect(problems(program, 'convert 20180402-114759-vggface2.pt models/vggface2', made)).toEqual([]);
    expect(problems(program, 'embed --model models/vggface2 photo.jpg', made)).toEqual([]);
    expect(problems(program, 'eval-lfw --model facenet --lfw lfw/')).toEqual(['--model facenet: no shipped model of that name']);
    expect(problems(program, 'detect --no-such-flag a.jpg')).toEqual(['detect has no option --no-such-flag']);
    expect(problems(program, 'recognise a.jpg')).toEqual(["no command 'recognise'"]);
  });
});
