/** Which files are images, in one place: every folder listing of the library uses this. */

/**
 * File extensions treated as images (lower case; matched case-insensitively): the formats the
 * decoder reads (sharp's prebuilt libvips, and PGM/PPM/PNM parsed by the library). BMP is not among them — libvips has no BMP
 * loader — so `.bmp` files are listed as ignored rather than failing one by one.
 */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.gif', '.webp', '.tif', '.tiff', '.pgm', '.ppm', '.pnm'];

/**
 * Whether a file name has an image extension. A name that only starts with a dot (`.png`)
 * has no extension, as with `path.extname`.
 */
export function isImageFile(name: string): boolean {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.includes(base.slice(dot).toLowerCase());
}
