/** `[x, y]` in image pixels. */
export type Point = [number, number];

/** `[x1, y1, x2, y2]` in image pixels (x2, y2 exclusive, as in the reference). */
export type Box = [number, number, number, number];

/** One detected face. */
export interface FaceDetection {
  /** `[x1, y1, x2, y2]` in image pixels. */
  box: Box;
  /** O-Net face probability. */
  score: number;
  /** Left eye, right eye, nose, left mouth corner, right mouth corner (as seen in the image). */
  landmarks: [Point, Point, Point, Point, Point];
}

/**
 * `detection` in an image `factor` times the size of the one it was found in (boxes and
 * landmarks multiplied; the score unchanged): how detections in a downscaled decode are
 * reported in the original image's pixels.
 */
export function scaleDetection(detection: FaceDetection, factor: number): FaceDetection {
  if (factor === 1) return detection;
  const [x1, y1, x2, y2] = detection.box;
  return {
    ...detection,
    box: [x1 * factor, y1 * factor, x2 * factor, y2 * factor],
    landmarks: detection.landmarks.map(([x, y]) => [x * factor, y * factor]) as FaceDetection['landmarks'],
  };
}

/** `detection` moved by (dx, dy) pixels: its box and landmarks. */
export function shiftDetection(detection: FaceDetection, dx: number, dy: number): FaceDetection {
  const [x1, y1, x2, y2] = detection.box;
  return {
    ...detection,
    box: [x1 + dx, y1 + dy, x2 + dx, y2 + dy],
    landmarks: detection.landmarks.map(([x, y]) => [x + dx, y + dy]) as FaceDetection['landmarks'],
  };
}
