#!/usr/bin/env python3
"""Trains the Digits sample's generator and writes what the sample and its tests load (samples/Digits/Model/).

Run with Debian's python3-torch (1.13), python3-numpy and python3-sklearn (for the data set), from anywhere:
    /usr/bin/python3 samples/Digits/training/train_digits.py            # about 12 minutes on a busy 2-core machine
It rewrites the files in samples/Digits/Model/ (fixed seeds, one thread: the same machine gives the same files); CI never
runs it, the outputs are committed.

The data: scikit-learn's handwritten digits (load_digits: 1,797 8x8 images with values 0..16 and their labels 0..9),
scaled to [-1, 1] and up-sampled bilinearly to 16x16, so that three stride-2-ish layers reach the image size.

The generator is a conditional DCGAN generator: what DCGAN's generator is made of (ConvTranspose2d, BatchNorm2d, ReLU,
Tanh), with the digit's one-hot code concatenated to the 32-number latent, so that the sample can ask for a given digit
and draw a grid with one row per digit. Its input is (N, 42, 1, 1) = [latent (32), one-hot digit (10)]:
    ConvT 42->64 k4 s1 p0, no bias (1x1 -> 4x4)  + BatchNorm + ReLU
    ConvT 64->32 k4 s2 p1, no bias (4x4 -> 8x8)  + BatchNorm + ReLU
    ConvT 32->1  k4 s2 p1, bias    (8x8 -> 16x16) + Tanh
The discriminator (training only, not exported) sees the image with the one-hot code broadcast as 10 more channels.
Training uses the settings DCGAN's paper recommends (Adam, lr 2e-4, betas (0.5, 0.999), BatchNorm, LeakyReLU 0.2 in the
discriminator) plus one-sided label smoothing (real target 0.9).

Written to samples/Digits/Model/:
- generator.safetensors: the generator's state_dict as float16 (the `safetensors` package is not in Debian, so
  save_safetensors() writes the published format: 8-byte little-endian header length, compact JSON header with
  "__metadata__" first and the tensors in data order, padded with spaces to a multiple of 8, then the little-endian bytes;
  num_batches_tracked is left out: inference does not use it). Names: layers.{0,3,6}.weight, layers.6.bias and
  layers.{1,4}.{weight,bias,running_mean,running_var} (nn.Sequential's indices).
- fixed_latents.npy (N, 32) float32 and fixed_digits.npy (N,) float32 (the digit of each latent, 0..9), and
  fixed_outputs.npy (N, 1, 16, 16): PyTorch's generator in eval mode, with the float16 weights as the file holds them
  (converted to float32), on those inputs. The C# tests must reproduce these.
- digit_means.npy (10, 16, 16) float32: the mean training image of each digit, so that the tests can check without
  Python that the network draws the digit it is asked for (each image nearest to its digit's mean).
- training_grid.png (beside this script, not used by the sample): a grid like the one the sample draws (one row per digit,
  other latent vectors), computed by PyTorch, for comparing by eye.
"""
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.normpath(os.path.join(HERE, "..", "Model"))
assert sys.byteorder == "little", "the tensors' bytes are written as the machine holds them"

LATENT = 32
DIGITS = 10
EPS = 1e-5  # BatchNorm2d's default; the sample folds with the same value
SEED = 13
EPOCHS = 120
BATCH = 64
# The fixed latents of the tests: one per digit for the first 10, then 10 more with digits 0..9 again.
FIXED_COUNT = 20


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.ConvTranspose2d(LATENT + DIGITS, 64, 4, 1, 0, bias=False),
            nn.BatchNorm2d(64, eps=EPS),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 4, 2, 1, bias=False),
            nn.BatchNorm2d(32, eps=EPS),
            nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 4, 2, 1, bias=True),
            nn.Tanh(),
        )

    def forward(self, z, one_hot):
        return self.layers(torch.cat([z, one_hot], 1)[:, :, None, None])


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Conv2d(1 + DIGITS, 32, 4, 2, 1),  # 16 -> 8
            nn.LeakyReLU(0.2),
            nn.Conv2d(32, 64, 4, 2, 1, bias=False),  # 8 -> 4
            nn.BatchNorm2d(64),
            nn.LeakyReLU(0.2),
            nn.Conv2d(64, 1, 4, 1, 0),  # 4 -> 1
        )

    def forward(self, image, one_hot):
        maps = one_hot[:, :, None, None].expand(-1, -1, image.shape[2], image.shape[3])
        return self.layers(torch.cat([image, maps], 1)).flatten()


def init_weights(module):
    # DCGAN's initialisation: N(0, 0.02) for the convolutions, N(1, 0.02) for the batch-norm scales.
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def load_data():
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32)[:, None] / 8.0 - 1.0  # 0..16 -> -1..1
    images = F.interpolate(images, size=(16, 16), mode="bilinear", align_corners=False)
    labels = torch.tensor(digits.target, dtype=torch.int64)
    return images, labels


def save_safetensors(tensors, path, metadata):
    # Every tensor is F16 here, so the reference implementation's order (larger dtypes first, then by name) is by name.
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name in sorted(tensors):
        data = tensors[name].contiguous().numpy().astype("<f2").tobytes()
        header[name] = {"dtype": "F16", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def train(images, labels):
    generator, discriminator = Generator(), Discriminator()
    generator.apply(init_weights)
    discriminator.apply(init_weights)
    opt_g = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    count = images.shape[0]
    started = time.time()
    for epoch in range(EPOCHS):
        order = torch.randperm(count)
        d_total = g_total = 0.0
        batches = 0
        for start in range(0, count - BATCH + 1, BATCH):
            index = order[start:start + BATCH]
            real, one_hot = images[index], F.one_hot(labels[index], DIGITS).float()
            z = torch.randn(BATCH, LATENT)
            fake = generator(z, one_hot)

            opt_d.zero_grad()
            d_loss = bce(discriminator(real, one_hot), torch.full((BATCH,), 0.9)) + \
                bce(discriminator(fake.detach(), one_hot), torch.zeros(BATCH))
            d_loss.backward()
            opt_d.step()

            opt_g.zero_grad()
            g_loss = bce(discriminator(fake, one_hot), torch.ones(BATCH))
            g_loss.backward()
            opt_g.step()
            d_total += d_loss.item()
            g_total += g_loss.item()
            batches += 1
        if epoch % 10 == 0 or epoch == EPOCHS - 1:
            print(f"epoch {epoch:4d}  D {d_total / batches:.3f}  G {g_total / batches:.3f}  {time.time() - started:6.1f} s",
                  flush=True)
    return generator, time.time() - started


def fixed_inputs():
    # Independent of the training's random stream, so that retraining with other settings keeps the same latents.
    rng = np.random.default_rng(2024)
    latents = rng.standard_normal((FIXED_COUNT, LATENT)).astype(np.float32)
    digits = (np.arange(FIXED_COUNT) % DIGITS).astype(np.float32)
    return latents, digits


def save_digit_means(images, labels, path):
    means = torch.stack([images[labels == d, 0].mean(0) for d in range(DIGITS)])
    np.save(path, means.numpy().astype(np.float32))


def nearest_mean_accuracy(outputs, digits, means):
    distances = ((outputs[:, 0][:, None] - means[None]) ** 2).sum((2, 3))
    return (distances.argmin(1) == digits).float().mean().item()


def save_grid(generator, path):
    from PIL import Image

    rng = np.random.default_rng(7)
    columns = 10
    z = torch.tensor(rng.standard_normal((DIGITS * columns, LATENT)).astype(np.float32))
    one_hot = F.one_hot(torch.arange(DIGITS).repeat_interleave(columns), DIGITS).float()
    with torch.no_grad():
        out = generator(z, one_hot)[:, 0].numpy()
    grid = np.full((DIGITS * 18, columns * 18), 0, dtype=np.uint8)
    for i, image in enumerate(out):
        row, col = divmod(i, columns)
        grid[row * 18 + 1:row * 18 + 17, col * 18 + 1:col * 18 + 17] = np.round((image + 1) * 127.5).clip(0, 255)
    Image.fromarray(grid).resize((grid.shape[1] * 3, grid.shape[0] * 3), Image.NEAREST).save(path)


def main():
    torch.manual_seed(SEED)
    np.random.seed(SEED)
    # One thread: on a 2-core machine that other processes also keep busy, PyTorch's two OpenMP threads spin-wait on each
    # other and a step took 10 times longer (1.6 s against 0.17 s) than with one.
    torch.set_num_threads(1)
    images, labels = load_data()
    generator, seconds = train(images, labels)
    print(f"trained {EPOCHS} epochs in {seconds:.0f} s")

    generator.eval()
    # The file holds float16; the reference outputs come from the weights as the file holds them, so that the C# side,
    # reading the same numbers, must match to float32 rounding and not to float16's.
    state = {name: t.detach().clone() for name, t in generator.state_dict().items() if not name.endswith("num_batches_tracked")}
    rounded = {name: t.half().float() for name, t in state.items()}
    generator.load_state_dict(rounded, strict=False)

    os.makedirs(MODEL, exist_ok=True)
    save_safetensors(rounded, os.path.join(MODEL, "generator.safetensors"),
                     {"format": "pt", "source": "samples/Digits/training/train_digits.py"})
    latents, digits = fixed_inputs()
    with torch.no_grad():
        outputs = generator(torch.tensor(latents), F.one_hot(torch.tensor(digits).long(), DIGITS).float())
    np.save(os.path.join(MODEL, "fixed_latents.npy"), latents)
    np.save(os.path.join(MODEL, "fixed_digits.npy"), digits)
    np.save(os.path.join(MODEL, "fixed_outputs.npy"), outputs.numpy().astype(np.float32))
    save_digit_means(images, labels, os.path.join(MODEL, "digit_means.npy"))
    save_grid(generator, os.path.join(HERE, "training_grid.png"))
    means = torch.tensor(np.load(os.path.join(MODEL, "digit_means.npy")))
    print(f"fixed latents: {nearest_mean_accuracy(outputs, torch.tensor(digits).long(), means):.0%} nearest to their digit's mean")


if __name__ == "__main__":
    main()
