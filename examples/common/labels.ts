/** How every example labels a recognised face (pure; shared by the Node and browser examples). */

/** Name shown for a face that matches no enrolled identity. */
export const UNKNOWN = 'unknown';

/** `"amy 0.42"`: the identity (or unknown) and its distance to the face. */
export function faceLabel(name: string | null, distance: number): string {
  return `${name ?? UNKNOWN} ${Number.isFinite(distance) ? distance.toFixed(2) : '-'}`;
}

/** Green for a known face, red for an unknown one. */
export function faceColor(name: string | null): string {
  return name === null ? '#ff4040' : '#30e030';
}
