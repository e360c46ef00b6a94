/**
 * The folder-per-identity layout, `root/<identity>/<image>` (what `tfjs-facenet align`
 * writes, and CASIA-WebFace, VGGFace2, LFW and the sample people use), listed in one place
 * for training, dataset alignment and enrolment. Node only.
 */
import * as fsp from 'node:fs/promises';
import * as nodePath from 'node:path';
import { FileNotFoundError } from '../errors.js';
import { isImageFile } from './images.js';

/** One identity: its folder name and its image paths. */
export interface IdentityFolder {
  name: string;
  /** `root/<name>/<file>` for every image file, sorted by file name. */
  images: string[];
}

/** A listed folder-per-identity tree. */
export interface IdentityFolders {
  root: string;
  /** Sub-folders sorted by name (code-point order); folders without images are kept. */
  classes: IdentityFolder[];
  /** Files inside identity folders that are not images (hidden files are left out). */
  ignored: string[];
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** One visible entry of a folder: its name, its path, and what it is once symbolic links are followed. */
export interface FolderEntry {
  name: string;
  /** The folder path as given, joined with the name. */
  path: string;
  /** `dir` or `file` after following a symbolic link; `other` for a broken link, socket, …. */
  kind: 'dir' | 'file' | 'other';
  /** A symbolic link whose target is missing or loops back (its `kind` is `other`). */
  brokenLink?: true;
}

/**
 * Whether a folder entry is an image to process: a file with an image extension, or a
 * broken link with one — listed so that it is reported as failing (the decoder names the
 * missing target or the loop), not silently dropped.
 */
export function isImageEntry(e: FolderEntry): boolean {
  return (e.kind === 'file' || e.brokenLink === true) && isImageFile(e.name);
}

/**
 * The non-hidden entries of `dir`, sorted by name (code-point order), with symbolic links
 * followed: a linked identity folder is a folder, a linked image a file (a folder of links
 * into a larger dataset is a common way to pick a subset).
 * @throws the `readdir` error (ENOENT, ENOTDIR, …) unchanged.
 */
export async function listFolder(dir: string): Promise<FolderEntry[]> {
  const entries = (await fsp.readdir(dir, { withFileTypes: true })).filter((e) => !e.name.startsWith('.'));
  const out: FolderEntry[] = [];
  for (const e of entries.sort((a, b) => byCodePoint(a.name, b.name))) {
    const path = nodePath.join(dir, e.name);
    let kind: FolderEntry['kind'] = e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other';
    let brokenLink = false;
    if (e.isSymbolicLink()) {
      const target = await fsp.stat(path).catch(() => null);
      kind = target?.isDirectory() ? 'dir' : target?.isFile() ? 'file' : 'other';
      brokenLink = target === null;
    }
    out.push(brokenLink ? { name: e.name, path, kind, brokenLink } : { name: e.name, path, kind });
  }
  return out;
}

/**
 * List `root`: every non-hidden sub-folder is an identity, every non-hidden file in it (not
 * recursive) an image when its extension says so; symbolic links are followed. Paths are
 * joined onto `root` as given.
 * @throws {FileNotFoundError} when `root` does not exist or is not a folder.
 */
export async function listIdentityFolders(root: string): Promise<IdentityFolders> {
  let entries: FolderEntry[];
  try {
    entries = await listFolder(root);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new FileNotFoundError(root, 'dataset folder');
    throw e;
  }
  const classes: IdentityFolder[] = [];
  const ignored: string[] = [];
  for (const folder of entries.filter((e) => e.kind === 'dir')) {
    const images: string[] = [];
    for (const f of await listFolder(folder.path)) {
      if (isImageEntry(f)) images.push(f.path);
      else if (f.kind === 'file') ignored.push(f.path);
    }
    classes.push({ name: folder.name, images });
  }
  return { root, classes, ignored };
}
