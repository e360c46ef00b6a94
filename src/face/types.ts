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
