"""Resemblyzer's speaker encoder run in numpy: a voice print for every short window of a call.

The network (3-layer LSTM, 256 units, over 40-band mel power frames of 25 ms every 10 ms, then
linear 256, ReLU, L2 norm) is small enough that numpy runs it as fast as PyTorch on a CPU,
so mono separation needs no PyTorch on the user's machine. The mel frames are computed as
``librosa.feature.melspectrogram`` computes them (centred periodic-Hann STFT, zero padded,
Slaney mel filters), which is what the weights were trained on; tests/test_voice_encoder.py
checks the output against PyTorch's for a fixed input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from faster_whisper.feature_extractor import FeatureExtractor

from aica.speech import torch_weights

SAMPLE_RATE = 16_000
N_FFT = 400
"""25 ms."""
HOP = 160
"""10 ms: one mel frame."""
N_MELS = 40
BLOCK = 6000
"""Mel frames computed at once (a minute)."""
LAYERS = 3
HIDDEN = 256

Floats = npt.NDArray[np.float32]


def mel_frames(samples: Floats) -> Floats:
    """Mel power frames, shape (frames, 40), one every 10 ms (frame ``i`` centred at
    ``i * 10`` ms); computed ``BLOCK`` frames at a time, so an hour's call never holds its
    whole spectrum (over a gigabyte) at once."""
    half = N_FFT // 2
    padded = np.pad(np.asarray(samples, np.float32), (half, half))
    count = 1 + (len(padded) - N_FFT) // HOP
    windows = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:count]
    mel: Floats = np.empty((count, N_MELS), np.float32)
    for start in range(0, count, BLOCK):
        spectrum = np.fft.rfft(windows[start : start + BLOCK] * _WINDOW, axis=-1)
        power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
        mel[start : start + BLOCK] = power @ _MEL.T
    return mel


_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
_MEL = FeatureExtractor.get_mel_filters(SAMPLE_RATE, N_FFT, n_mels=N_MELS).astype(np.float32)
"""librosa's ``filters.mel(sr=16000, n_fft=400, n_mels=40)`` (Slaney scale and norm)."""


class VoiceEncoder:
    """The encoder's weights, and the forward pass over a batch of windows."""

    def __init__(self, weights: dict[str, npt.NDArray[Any]]) -> None:
        state = "model_state."
        self.layers = [
            (
                np.ascontiguousarray(weights[f"{state}lstm.weight_ih_l{k}"].T, np.float32),
                np.ascontiguousarray(weights[f"{state}lstm.weight_hh_l{k}"].T, np.float32),
                np.add(
                    weights[f"{state}lstm.bias_ih_l{k}"],
                    weights[f"{state}lstm.bias_hh_l{k}"],
                    dtype=np.float32,
                ),
            )
            for k in range(LAYERS)
        ]
        self.linear = np.ascontiguousarray(weights[f"{state}linear.weight"].T, np.float32)
        self.linear_bias = weights[f"{state}linear.bias"].astype(np.float32)

    @classmethod
    def load(cls, path: Path) -> VoiceEncoder:
        return cls(torch_weights.load(path))

    def embed(self, mels: Floats) -> Floats:
        """Unit voice prints, shape (batch, 256), of mel windows shaped (batch, frames, 40)."""
        x = np.asarray(mels, np.float32)
        batch, frames, _ = x.shape
        h = np.zeros((batch, HIDDEN), np.float32)
        for w_in, w_hidden, bias in self.layers:
            gates_in = (x.reshape(batch * frames, -1) @ w_in + bias).reshape(batch, frames, -1)
            h = np.zeros((batch, HIDDEN), np.float32)
            c = np.zeros((batch, HIDDEN), np.float32)
            out = np.empty((batch, frames, HIDDEN), np.float32)
            for t in range(frames):
                gates = gates_in[:, t] + h @ w_hidden
                i, f, g, o = np.split(gates, 4, axis=1)  # PyTorch's gate order
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
                h = _sigmoid(o) * np.tanh(c)
                out[:, t] = h
            x = out
        raw = np.maximum(h @ self.linear + self.linear_bias, 0.0)
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        unit: Floats = (raw / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit


def _sigmoid(x: Floats) -> Floats:
    out: Floats = (0.5 * (np.tanh(0.5 * x) + 1.0)).astype(np.float32)
    return out
