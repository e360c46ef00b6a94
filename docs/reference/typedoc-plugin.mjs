/**
 * typedoc plugin of the API site (typedoc.json `plugin`). The site's modules are the
 * sections of docs/reference/groups.json (generated entry modules, scripts/docs-entries.mjs);
 * this plugin adds what typedoc cannot know from them:
 *
 * - where to import each item from: a "From tfjs-facenet…" group on the section's page and
 *   an "Import" block on the item's page, from the generated exports.json;
 * - thrown error types: `@throws {ImageDecodeError} …` keeps its type as a link (typedoc drops
 *   a block tag's `{type}` unless told to keep it, and then shows it as plain text);
 * - links written against the package entries, `{@link "tfjs-facenet/node"!train}` (as in the
 *   guides), resolve to the item in whichever section documents it, if that entry exports it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Comment, CommentTag, Converter } from 'typedoc';

/** "From tfjs-facenet or tfjs-facenet/io": the entries that export an item (node's copy of the main entry left out). */
export function importGroup(entries) {
  const shown = entries.includes('tfjs-facenet') ? entries.filter((e) => e !== 'tfjs-facenet/node') : entries;
  return `From ${shown.join(' or ')}`;
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  /** name → entries, read when conversion starts (the entry modules are generated before typedoc runs). */
  let exportsByName = new Map();
  /** name → the documented reflection (a direct child of a section module). */
  const documented = new Map();

  app.converter.on(Converter.EVENT_BEGIN, () => {
    const first = app.options.getValue('entryPoints')[0];
    const file = join(dirname(resolve(first)), 'exports.json');
    if (!existsSync(file)) throw new Error(`${file} is missing: run node scripts/docs-entries.mjs first (npm run docs does)`);
    exportsByName = new Map(Object.entries(JSON.parse(readFileSync(file, 'utf8')).exports));
    documented.clear();
  });

  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    const project = context.project;
    for (const module of project.children ?? []) {
      for (const item of module.children ?? []) {
        const entries = exportsByName.get(item.name);
        if (!entries) {
          app.logger.warn(`${module.name}: ${item.name} is documented but no package entry exports it`);
          continue;
        }
        documented.set(item.name, item);
        const target = item.signatures?.[0] ?? item;
        target.comment ??= new Comment();
        target.comment.blockTags.push(new CommentTag('@group', [{ kind: 'text', text: importGroup(entries) }]));
        const shown = entries.includes('tfjs-facenet') ? entries.filter((e) => e !== 'tfjs-facenet/node') : entries;
        const code = shown.map((e) => `import { ${item.name} } from '${e}';`).join('\n');
        target.comment.blockTags.push(new CommentTag('@import', [{ kind: 'code', text: '```ts\n' + code + '\n```' }]));
      }
    }
    // Thrown types become links to the error classes' pages.
    for (const refl of Object.values(project.reflections)) {
      const comments = [refl.comment, ...(refl.signatures ?? []).map((s) => s.comment)];
      for (const comment of comments) {
        for (const tag of comment?.blockTags ?? []) {
          if (tag.tag !== '@throws') continue;
          const parts = [];
          if (tag.typeAnnotation) {
            parts.push(...typeLinks(tag.typeAnnotation.replace(/^\{|\}$/g, ''), refl), { kind: 'text', text: ' ' });
            delete tag.typeAnnotation;
          }
          for (const part of tag.content) {
            if (part.kind === 'text') parts.push(...typeLinks(part.text, refl, /\{([A-Z]\w*)\}/g));
            else parts.push(part);
          }
          tag.content = parts;
        }
      }
    }
  });

  /**
   * Display parts for `text` with the type names in it (all of it, or the `{Name}` matches of
   * `pattern`) turned into links; an unknown name is a warning (the build treats it as an error).
   */
  function typeLinks(text, refl, pattern = /([A-Za-z_]\w*)/g) {
    const parts = [];
    let last = 0;
    for (const m of text.matchAll(pattern)) {
      const target = documented.get(m[1]);
      if (!target) {
        // Only names that look like error classes are claims about thrown types.
        if (/Error$/.test(m[1])) app.logger.warn(`${refl.getFriendlyFullName()}: @throws names ${m[1]}, which the site does not document`);
        continue;
      }
      if (m.index > last) parts.push({ kind: 'text', text: text.slice(last, m.index) });
      parts.push({ kind: 'inline-tag', tag: '@link', text: m[1], target });
      last = m.index + m[0].length;
    }
    if (last < text.length) parts.push({ kind: 'text', text: text.slice(last) });
    return parts;
  }

  // {@link "tfjs-facenet/node"!train}: the module is a package entry, not a section.
  app.converter.addUnknownSymbolResolver((ref) => {
    const entry = ref.moduleSource;
    const path = ref.symbolReference?.path;
    if (!path?.length) return undefined;
    const item = documented.get(path[0].path);
    if (!item) return undefined;
    if (entry !== undefined && !(exportsByName.get(item.name) ?? []).includes(entry)) return undefined;
    let target = item;
    for (const step of path.slice(1)) {
      target = target.getChildByName?.([step.path]);
      if (!target) return undefined;
    }
    return { target, caption: path.map((p) => p.path).join('.') };
  });
}
