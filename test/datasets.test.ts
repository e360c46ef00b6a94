/** The one image-extension rule and the one folder-per-identity listing (datasets/). */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isImageFile, IMAGE_EXTENSIONS } from '../src/datasets/images.js';
import { listIdentityFolders } from '../src/datasets/folders.js';
import { FileNotFoundError } from '../src/errors.js';

describe('isImageFile', () => {
  it('goes by the extension, case-insensitively, like path.extname', () => {
    expect(IMAGE_EXTENSIONS).toContain('.jpg');
    expect(['a.jpg', 'B.JPEG', 'c.Png', 'd.tiff', 'dir/e.webp', 'f.g.gif'].map(isImageFile)).toEqual([true, true, true, true, true, true]);
    // sharp's libvips has no BMP loader: BMP is not listed as an image (it could only fail).
    expect(isImageFile('f.bmp')).toBe(false);
    // No extension, a hidden file whose whole name is ".png", a folder named like an image.
    expect(['readme', '.png', 'x.txt', 'photos.jpg/notes', 'archive.jpg.zip'].map(isImageFile)).toEqual([false, false, false, false, false]);
  });
});

describe('listIdentityFolders', () => {
  it('lists sub-folders and their images in code-point order, other files as ignored, hidden ones not at all', async () => {
    const root = await mkdtemp(join(tmpdir(), 'facenet-folders-'));
    try {
      for (const [dir, files] of [['bob', ['b2.PNG', 'b1.jpg', 'notes.txt', '.hidden.jpg']], ['Amy', ['a.jpg']], ['empty', []], ['.git', ['x.jpg']]] as const) {
        await mkdir(join(root, dir));
        for (const f of files) await writeFile(join(root, dir, f), 'x');
      }
      await writeFile(join(root, 'top.jpg'), 'x');
      const listed = await listIdentityFolders(root);
      expect(listed.classes).toEqual([
        { name: 'Amy', images: [join(root, 'Amy', 'a.jpg')] },
        { name: 'bob', images: [join(root, 'bob', 'b1.jpg'), join(root, 'bob', 'b2.PNG')] },
        { name: 'empty', images: [] },
      ]);
      expect(listed.ignored).toEqual([join(root, 'bob', 'notes.txt')]);
      await expect(listIdentityFolders(join(root, 'missing'))).rejects.toThrow(FileNotFoundError);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
