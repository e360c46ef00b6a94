/** Losses for training face embeddings. */
export { softmaxCrossEntropy, classificationAccuracy } from './cross-entropy.js';
export { CenterLoss } from './center-loss.js';
export type { CenterLossOptions } from './center-loss.js';
export { tripletLoss, minedTripletLoss, mineTriplets, pairwiseSquaredDistances } from './triplet.js';
export type { TripletMining, Triplets, MinedTripletOptions } from './triplet.js';
export { arcFaceLogits, cosFaceLogits, cosineLogits, l2Normalize } from './margin-softmax.js';
export type { MarginOptions } from './margin-softmax.js';
export { l2WeightDecay, prelogitsNorm } from './regularization.js';
export { embeddingDistillationLoss, relationalDistillationLoss } from './distillation.js';
export type { DistillationMetric } from './distillation.js';
export type { Labels } from './labels.js';
