"""Whisper's log-Mel features in blocks, so memory does not grow with the call's length.

faster-whisper computes the spectrogram of a whole recording at once: about 1.5 GB of
transient arrays for 30 minutes, 4 GB for an hour, per concurrent job. This computes the
same numbers 3000 frames (30 s) at a time; only the clamp to 8 below the global maximum needs
the whole result, and runs at the end. Same means bit for bit on one CPU; across instruction
sets numpy's BLAS may sum in another order, moving a value by a float32 ULP, as it moves
faster-whisper's own (tests/test_features.py: within a few ULPs, the same transcript).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from faster_whisper.feature_extractor import FeatureExtractor

BLOCK_FRAMES = 3000


class BlockFeatureExtractor(FeatureExtractor):  # type: ignore[misc]
    def __call__(
        self, waveform: npt.NDArray[Any], padding: int = 160, chunk_length: int | None = None
    ) -> npt.NDArray[np.float32]:
        if chunk_length is not None:
            self.n_samples = chunk_length * self.sampling_rate
            self.nb_max_frames = self.n_samples // self.hop_length
        audio = np.asarray(waveform, dtype=np.float32)
        if padding:
            audio = np.pad(audio, (0, padding))
        half = self.n_fft // 2
        padded = np.pad(audio, (half, half), mode="reflect")  # as stft(center=True)
        frames = 1 + (len(padded) - self.n_fft) // self.hop_length - 1  # the last is dropped
        window = np.hanning(self.n_fft + 1)[:-1].astype(np.float32)
        out = np.empty((self.mel_filters.shape[0], frames), dtype=np.float32)
        for start in range(0, frames, BLOCK_FRAMES):
            end = min(start + BLOCK_FRAMES, frames)
            span = padded[start * self.hop_length : (end - 1) * self.hop_length + self.n_fft]
            windows = np.lib.stride_tricks.sliding_window_view(span, self.n_fft)[:: self.hop_length]
            spectrum = np.fft.rfft(windows * window, axis=-1).astype(np.complex64)
            mel = self.mel_filters @ (np.abs(spectrum.T) ** 2)
            out[:, start:end] = np.log10(np.clip(mel, 1e-10, None))
        np.maximum(out, out.max() - 8.0, out=out)
        out += 4.0
        out /= 4.0
        return out
