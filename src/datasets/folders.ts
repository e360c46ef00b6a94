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

/**
 * List `root`: every non-hidden sub-folder is an identity, every non-hidden file in it (not
 * recursive; files and symbolic links) an image when its extension says so. Paths are
 * joined onto `root` as given.
 * @throws {FileNotFoundError} when `root` does not exist or is not a folder.
 */
export async function listIdentityFolders(root: string): Promise<IdentityFolders> {
  let entries;
  try {
    entries = await fsp.readdir(root, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new FileNotFoundError(root, 'dataset folder');
    throw e;
  }
  const names = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => e.name).sort(byCodePoint);
  const classes: IdentityFolder[] = [];
  const ignored: string[] = [];
  for (const name of names) {
    const dir = nodePath.join(root, name);
    const files = (await fsp.readdir(dir, { withFileTypes: true }))
      .filter((e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith('.'))
      .map((e) => e.name)
      .sort(byCodePoint);
    const images: string[] = [];
    for (const f of files) (isImageFile(f) ? images : ignored).push(nodePath.join(dir, f));
    classes.push({ name, images });
  }
  return { root, classes, ignored };
}
