/**
 * The variables davidsandberg/facenet's Inception-ResNet-v1 definition
 * (src/models/inception_resnet_v1.py) creates, enumerated independently of this library's
 * builder, scope by scope: slim.repeat opens the scopes `Repeat`, `Repeat_1`, `Repeat_2` and
 * names blocks `block35_1`…; the final `block8(net, activation_fn=None)` gets the default
 * scope `Block8`; slim.conv2d with batch norm creates `weights` +
 * `BatchNorm/{beta,moving_mean,moving_variance}` (no gamma: slim's default scale=False); the
 * blocks' `Conv2d_1x1` creates `weights` + `biases`; `Bottleneck` is a fully connected layer
 * with batch norm and no bias.
 */

/**
 * Variable name → shape, as the reference definition creates them. `widthDivisor` divides
 * every channel count but the RGB input's (all of them are multiples of 16).
 */
export function referenceVariables(
  embeddingSize: number,
  repeats = { block35: 5, block17: 10, block8: 5 },
  widthDivisor = 1,
): Map<string, number[]> {
  const vars = new Map<string, number[]>();
  const root = 'InceptionResnetV1';
  const c = (n: number) => (n === 3 ? n : n / widthDivisor);
  const conv = (scope: string, kh: number, kw: number, cin0: number, cout0: number) => {
    const [cin, cout] = [c(cin0), c(cout0)];
    vars.set(`${root}/${scope}/weights`, [kh, kw, cin, cout]);
    for (const v of ['beta', 'moving_mean', 'moving_variance']) vars.set(`${root}/${scope}/BatchNorm/${v}`, [cout]);
  };
  const up = (scope: string, cin0: number, cout0: number) => {
    const [cin, cout] = [c(cin0), c(cout0)];
    vars.set(`${root}/${scope}/weights`, [1, 1, cin, cout]);
    vars.set(`${root}/${scope}/biases`, [cout]);
  };
  conv('Conv2d_1a_3x3', 3, 3, 3, 32);
  conv('Conv2d_2a_3x3', 3, 3, 32, 32);
  conv('Conv2d_2b_3x3', 3, 3, 32, 64);
  conv('Conv2d_3b_1x1', 1, 1, 64, 80);
  conv('Conv2d_4a_3x3', 3, 3, 80, 192);
  conv('Conv2d_4b_3x3', 3, 3, 192, 256);
  for (let i = 1; i <= repeats.block35; i++) {
    const s = `Repeat/block35_${i}`;
    conv(`${s}/Branch_0/Conv2d_1x1`, 1, 1, 256, 32);
    conv(`${s}/Branch_1/Conv2d_0a_1x1`, 1, 1, 256, 32);
    conv(`${s}/Branch_1/Conv2d_0b_3x3`, 3, 3, 32, 32);
    conv(`${s}/Branch_2/Conv2d_0a_1x1`, 1, 1, 256, 32);
    conv(`${s}/Branch_2/Conv2d_0b_3x3`, 3, 3, 32, 32);
    conv(`${s}/Branch_2/Conv2d_0c_3x3`, 3, 3, 32, 32);
    up(`${s}/Conv2d_1x1`, 96, 256);
  }
  conv('Mixed_6a/Branch_0/Conv2d_1a_3x3', 3, 3, 256, 384);
  conv('Mixed_6a/Branch_1/Conv2d_0a_1x1', 1, 1, 256, 192);
  conv('Mixed_6a/Branch_1/Conv2d_0b_3x3', 3, 3, 192, 192);
  conv('Mixed_6a/Branch_1/Conv2d_1a_3x3', 3, 3, 192, 256);
  for (let i = 1; i <= repeats.block17; i++) {
    const s = `Repeat_1/block17_${i}`;
    conv(`${s}/Branch_0/Conv2d_1x1`, 1, 1, 896, 128);
    conv(`${s}/Branch_1/Conv2d_0a_1x1`, 1, 1, 896, 128);
    conv(`${s}/Branch_1/Conv2d_0b_1x7`, 1, 7, 128, 128);
    conv(`${s}/Branch_1/Conv2d_0c_7x1`, 7, 1, 128, 128);
    up(`${s}/Conv2d_1x1`, 256, 896);
  }
  conv('Mixed_7a/Branch_0/Conv2d_0a_1x1', 1, 1, 896, 256);
  conv('Mixed_7a/Branch_0/Conv2d_1a_3x3', 3, 3, 256, 384);
  conv('Mixed_7a/Branch_1/Conv2d_0a_1x1', 1, 1, 896, 256);
  conv('Mixed_7a/Branch_1/Conv2d_1a_3x3', 3, 3, 256, 256);
  conv('Mixed_7a/Branch_2/Conv2d_0a_1x1', 1, 1, 896, 256);
  conv('Mixed_7a/Branch_2/Conv2d_0b_3x3', 3, 3, 256, 256);
  conv('Mixed_7a/Branch_2/Conv2d_1a_3x3', 3, 3, 256, 256);
  const block8 = (s: string) => {
    conv(`${s}/Branch_0/Conv2d_1x1`, 1, 1, 1792, 192);
    conv(`${s}/Branch_1/Conv2d_0a_1x1`, 1, 1, 1792, 192);
    conv(`${s}/Branch_1/Conv2d_0b_1x3`, 1, 3, 192, 192);
    conv(`${s}/Branch_1/Conv2d_0c_3x1`, 3, 1, 192, 192);
    up(`${s}/Conv2d_1x1`, 384, 1792);
  };
  for (let i = 1; i <= repeats.block8; i++) block8(`Repeat_2/block8_${i}`);
  block8('Block8');
  vars.set(`${root}/Bottleneck/weights`, [c(1792), embeddingSize]);
  for (const v of ['beta', 'moving_mean', 'moving_variance']) vars.set(`${root}/Bottleneck/BatchNorm/${v}`, [embeddingSize]);
  return vars;
}

