/**
 * How the shipped dlib model (`models/dlib`) sees a face: dlib's 150-pixel recognition chip
 * (`get_face_chip_details(shape, 150, 0.25)`) warped from MTCNN's 5 landmarks, RGB 0…255
 * (the network normalises its input itself).
 */
import type { Preprocessing } from '../face/embedding.js';
import { DLIB_RESNET_INPUT_SIZE } from './dlib-resnet.js';

export const DLIB_PREPROCESSING: Readonly<Preprocessing> = Object.freeze({
  imageSize: DLIB_RESNET_INPUT_SIZE,
  margin: 0.25,
  alignment: 'chip',
  standardization: 'none',
  flip: false,
});
