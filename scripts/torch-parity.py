#!/usr/bin/python3
"""Reference data for the facenet-pytorch import: a facenet-pytorch InceptionResnetV1 with
random weights, its state dict as torch.save writes it, input images and PyTorch's own
outputs for them.

facenet-pytorch itself is not a dependency of tfjs-facenet: this script loads the model
definition from a copy of timesler/facenet-pytorch's `models/inception_resnet_v1.py`
(--model-source) and is the only code that runs it. It needs PyTorch (Debian:
`apt-get install python3-torch`) and NumPy; run it with /usr/bin/python3.

  fixtures  a reduced-width copy (every channel count / 16, all 21 blocks, 64-d embedding,
            10-class logits) for the tests: test/fixtures/torch/ — state dict in the zip
            format and the legacy format, and reference.npy with the input images, the
            outputs of the stem, of every block kind and of the head; dtypes.pt and
            dtypes-legacy.pt with small tensors of every storage type and strided views.
  full      the real size (160 px, 512-d, 23.5 M parameters) for the parity figure in
            BENCHMARKS.md: OUT/facenet-random.pt and OUT/reference.npy (run by
            bench/torch-parity.ts).

reference.npy is a pickled dict (np.save of a dict): `images` uint8 [n, h, w, 3] (RGB;
PyTorch is fed (images - 127.5) / 128 with channels moved first) and one float32 entry
per recorded module output, NHWC for feature maps: `conv2d_4b`, `repeat_1.0`, `repeat_1`, `mixed_6a`, `repeat_2.0`,
`repeat_2`, `mixed_7a`, `repeat_3.0`, `repeat_3`, `block8`, `last_bn` (pre-logits),
`embeddings` (the model's output with classify=False) and `logits` (classify=True).
"""
import argparse
import hashlib
import importlib.util
import os
import sys
import types

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def load_facenet_pytorch(path):
    """Import inception_resnet_v1.py as a module. Its imports for downloading pretrained
    weights (requests, .utils.download) are replaced by empty modules: nothing is downloaded."""
    package = types.ModuleType('facenet_pytorch_models')
    package.__path__ = []
    utils = types.ModuleType('facenet_pytorch_models.utils')
    utils.__path__ = []
    download = types.ModuleType('facenet_pytorch_models.utils.download')
    download.download_url_to_file = None
    sys.modules.update({
        'facenet_pytorch_models': package,
        'facenet_pytorch_models.utils': utils,
        'facenet_pytorch_models.utils.download': download,
    })
    if importlib.util.find_spec('requests') is None:
        requests = types.ModuleType('requests')
        adapters = types.ModuleType('requests.adapters')
        adapters.HTTPAdapter = None
        sys.modules.update({'requests': requests, 'requests.adapters': adapters})
    spec = importlib.util.spec_from_file_location('facenet_pytorch_models.inception_resnet_v1', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def shrink(model, divisor, embedding_size, num_classes):
    """Divide every channel count by `divisor` (the RGB input stays 3). The forward code of
    the blocks (concatenations, scaled residual sums) does not depend on channel counts."""
    def c(n):
        return n if n == 3 else n // divisor
    replacements = []
    for parent_name, parent in model.named_modules():
        for name, child in parent.named_children():
            if isinstance(child, nn.Conv2d):
                new = nn.Conv2d(c(child.in_channels), c(child.out_channels), child.kernel_size,
                                stride=child.stride, padding=child.padding, bias=child.bias is not None)
            elif isinstance(child, nn.BatchNorm2d):
                new = nn.BatchNorm2d(c(child.num_features), eps=child.eps, momentum=child.momentum)
            else:
                continue
            replacements.append((parent, name, new))
    for parent, name, new in replacements:
        setattr(parent, name, new)
    model.last_linear = nn.Linear(c(model.last_linear.in_features), embedding_size, bias=False)
    model.last_bn = nn.BatchNorm1d(embedding_size, eps=model.last_bn.eps, momentum=model.last_bn.momentum)
    model.logits = nn.Linear(embedding_size, num_classes)
    return model


def randomize(model, generator, calibration):
    """Random batch-norm scales (some negative) and offsets, then moving statistics
    measured on `calibration` images, so that every layer's activations are of order one
    and a wrong weight anywhere shows in the outputs."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for m in norms:
            n = m.num_features
            gamma = torch.rand(n, generator=generator) + 0.5
            sign = torch.where(torch.rand(n, generator=generator) < 0.2, -1.0, 1.0)
            m.weight.copy_(gamma * sign)
            m.bias.copy_((torch.rand(n, generator=generator) - 0.5) * 0.4)
            m.reset_running_stats()
            m.momentum = None  # cumulative average: one pass sets the batch statistics
        model.train()
        model(calibration)
        for m in norms:
            m.momentum = 0.1
    model.eval()


def smooth_images(n, size, generator):
    """Images with some spatial structure (a random 8×8 pattern, upsampled, plus noise), uint8 NHWC."""
    coarse = torch.rand(n, 3, 8, 8, generator=generator)
    smooth = F.interpolate(coarse, size=(size, size), mode='bilinear', align_corners=False)
    noise = torch.rand(n, 3, size, size, generator=generator) * 0.3
    pixels = ((smooth * 0.7 + noise) * 255).round().clamp(0, 255).to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).contiguous().numpy()


def standardize(images):
    return (images.astype(np.float32) - np.float32(127.5)) / np.float32(128)


RECORDED = ['conv2d_4b', 'repeat_1.0', 'repeat_1', 'mixed_6a', 'repeat_2.0', 'repeat_2', 'mixed_7a',
            'repeat_3.0', 'repeat_3', 'block8', 'last_bn']


def run_reference(model, images, record_all):
    outputs = {}
    modules = dict(model.named_modules())
    hooks = []
    for name in (RECORDED if record_all else ['last_bn']):
        def hook(_module, _inputs, output, name=name):
            y = output.detach().numpy().astype(np.float32)
            outputs[name] = np.ascontiguousarray(y.transpose(0, 2, 3, 1)) if y.ndim == 4 else y
        hooks.append(modules[name].register_forward_hook(hook))
    x = torch.from_numpy(standardize(images)).permute(0, 3, 1, 2).contiguous()
    with torch.no_grad():
        model.classify = False
        outputs['embeddings'] = model(x).numpy().astype(np.float32)
        for h in hooks:
            h.remove()
        model.classify = True
        outputs['logits'] = model(x).numpy().astype(np.float32)
        model.classify = False
    outputs['images'] = images
    return outputs


def save_dtype_samples(out):
    """Small tensors of every storage type and a strided view, in both file formats."""
    base = torch.arange(24, dtype=torch.float32).reshape(2, 3, 4)
    samples = {
        'permuted': base.permute(2, 0, 1)[1:],  # shape [3, 2, 3], strides [1, 12, 4], offset 1
        'row': base[1, 2],  # the same storage, offset 20
        'half': torch.tensor([1.5, -2.25, 65504.0, 2.0 ** -24], dtype=torch.float16),
        'bfloat16': torch.tensor([1.5, -2.25, 1 / 3], dtype=torch.bfloat16),
        'double': torch.tensor([0.1], dtype=torch.float64),
        'long': torch.tensor([-3, 2 ** 40], dtype=torch.int64),
        'int': torch.tensor([-7, 7], dtype=torch.int32),
        'short': torch.tensor([-300, 300], dtype=torch.int16),
        'char': torch.tensor([-128, 127], dtype=torch.int8),
        'byte': torch.tensor([0, 255], dtype=torch.uint8),
        'bool': torch.tensor([True, False]),
        'param': nn.Parameter(torch.full((2,), 0.5)),
    }
    torch.save(samples, os.path.join(out, 'dtypes.pt'))
    torch.save(samples, os.path.join(out, 'dtypes-legacy.pt'), _use_new_zipfile_serialization=False)


def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('mode', choices=['fixtures', 'full'])
    parser.add_argument('--model-source', required=True, help="facenet-pytorch's models/inception_resnet_v1.py")
    parser.add_argument('--out', required=True, help='output directory')
    parser.add_argument('--seed', type=int, default=14)
    parser.add_argument('--images', type=int, default=None, help='number of test images (default 2 / 4)')
    args = parser.parse_args()

    torch.set_num_threads(1)
    generator = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)  # the layers' own initialization
    facenet = load_facenet_pytorch(args.model_source)
    os.makedirs(args.out, exist_ok=True)

    if args.mode == 'fixtures':
        size, n = 112, args.images or 2
        model = shrink(facenet.InceptionResnetV1(), 16, 64, 10)
    else:
        size, n = 160, args.images or 4
        model = facenet.InceptionResnetV1(classify=True, num_classes=100)

    calibration = torch.from_numpy(standardize(smooth_images(8, size, generator))).permute(0, 3, 1, 2).contiguous()
    randomize(model, generator, calibration)
    images = smooth_images(n, size, generator)
    outputs = run_reference(model, images, record_all=args.mode == 'fixtures')

    state = model.state_dict()
    if args.mode == 'fixtures':
        torch.save(state, os.path.join(args.out, 'facenet-w16.pt'))
        torch.save(state, os.path.join(args.out, 'facenet-w16-legacy.pt'), _use_new_zipfile_serialization=False)
        save_dtype_samples(args.out)
    else:
        torch.save(state, os.path.join(args.out, 'facenet-random.pt'))
    np.save(os.path.join(args.out, 'reference.npy'), outputs, allow_pickle=True)

    params = sum(v.numel() for k, v in state.items() if not k.endswith('num_batches_tracked'))
    print(f'torch {torch.__version__}, model source sha256 {sha256(args.model_source)[:16]}')
    print(f'{args.mode}: {len(state)} state-dict entries, {params} numbers, {n} images of {size} px -> {args.out}')


if __name__ == '__main__':
    main()
