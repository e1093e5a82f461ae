"""Who speaks when in a mono call: two voices told apart by their voice prints.

Most telephony exports are mono, so without this every segment is ``unknown`` and talk
ratio, overtalk and agent-only criteria are guesses. The steps:

1. Silero VAD (faster-whisper's, ONNX) at a low threshold, which keeps phone-band speech.
2. A voice print (:mod:`aica.speech.voice_encoder`) for every ``WINDOW`` of speech, every
   ``STEP``, over the speech alone (silences cut out, as the encoder was trained).
3. Two clusters, from two methods (spherical k-means and a spectral split), whichever has
   the better silhouette. A call whose two clusters sound alike, or whose smaller cluster is
   a sliver, is one voice and is not split.
4. Each 10 ms frame of speech takes the cluster most of the windows over it belong to;
   turns shorter than ``MIN_TURN`` are merged into their neighbours.

Which cluster is the agent is not decided here (it takes the project's greeting phrases:
:mod:`aica.analysis.sides`); :func:`split_segments` cuts Whisper segments and their words at
the turns, labelling cluster 0 ``agent`` and 1 ``customer`` provisionally.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
from faster_whisper.vad import VadOptions, get_speech_timestamps

from aica.speech.voice_encoder import HOP, SAMPLE_RATE, VoiceEncoder, mel_frames
from aica.transcript import Segment, Speaker, Word

VAD_THRESHOLD = 0.3
"""Silero's default 0.5 drops much of a narrow-band phone line; 0.3 keeps it."""
WINDOW = 120
"""Frames (10 ms) per voice print."""
STEP = 60
"""Frames between voice prints."""
PAUSE = 15
"""Frames of silence that make a pause where the speaker may change."""
SNAP = 60
"""Frames a change of voice may move to reach a pause."""
MIN_TURN = 0.6
"""Seconds: a shorter run of one voice is the neighbour's (a cough, a misheard frame)."""
MIN_SILHOUETTE = 0.15
SAME_VOICE = 0.946
"""A split whose silhouette is below MIN_SILHOUETTE, or whose clusters' mean voice prints
are more alike (cosine) than SAME_VOICE, is one voice heard in two moods. Set on espeak-ng
voices, wideband and telephone band: one voice gave clusters 0.948-0.967 alike, two voices
0.78-0.944 with silhouettes from 0.168."""
MIN_SHARE = 0.08
"""A second voice with less than this share of the windows is noise, not a speaker."""
CLEAR_MARGIN = 0.05
"""A window is clearly one voice's when it is this much nearer (cosine) to it."""
MAX_CLUSTERED = 1500
"""Voice prints clustered at most (evenly spread; the rest go to the nearer centroid): the
similarity matrix and its eigenvectors grow with the square and cube of their number."""
BATCH = 256
"""Windows per pass of the encoder (bounds memory on long calls)."""

Floats = npt.NDArray[np.float32]
FRAME = HOP / SAMPLE_RATE


@dataclass(frozen=True, slots=True)
class Turn:
    start: float
    end: float
    speaker: int
    """0 or 1: a cluster, not yet named."""


@dataclass(frozen=True, slots=True)
class Diarization:
    turns: list[Turn]
    speakers: int
    """Voices found: 0 (no speech), 1 or 2."""
    confidence: float
    """Share of the voice prints clearly nearer their own voice than the other (0..1; 1.0
    for one voice)."""


def diarize(
    samples: Floats, encoder: VoiceEncoder, *, vad_threshold: float = VAD_THRESHOLD
) -> Diarization:
    """The turns of a mono 16 kHz call (see the module doc)."""
    speech = _speech_frames(samples, vad_threshold)
    if len(speech) < WINDOW // 2:
        return Diarization([], 0, 0.0)
    mels = mel_frames(samples)[speech]
    starts = list(range(0, max(1, len(speech) - WINDOW + 1), STEP))
    if len(speech) > WINDOW and starts[-1] + WINDOW < len(speech):
        starts.append(len(speech) - WINDOW)
    if len(speech) < WINDOW:
        mels = np.pad(mels, ((0, WINDOW - len(speech)), (0, 0)))
    prints = np.concatenate(
        [
            encoder.embed(np.stack([mels[s : s + WINDOW] for s in starts[i : i + BATCH]]))
            for i in range(0, len(starts), BATCH)
        ]
    )
    labels, confidence = _two_voices(prints)
    if labels is None:
        whole = _runs(speech, np.zeros(len(speech), np.int64))
        return Diarization(whole, 1, 1.0)
    # a window votes for the voice it is nearer, by how much nearer: one straddling a change
    # of speaker is near both and barely counts
    nearness = prints @ _centroids(prints, labels).T
    votes = np.zeros((len(speech), 2), np.float32)
    for start, (near0, near1) in zip(starts, nearness, strict=True):
        margin = float(near0 - near1)
        votes[start : start + WINDOW, 0 if margin >= 0 else 1] += abs(margin)
    frame_labels = _snap_to_pauses(speech, np.argmax(votes, axis=1))
    turns = _merge_short(_runs(speech, frame_labels))
    # cluster 0 speaks first, so labels do not depend on how clustering numbered them
    if turns and turns[0].speaker == 1:
        turns = [replace(t, speaker=1 - t.speaker) for t in turns]
    return Diarization(turns, len({t.speaker for t in turns}), confidence)


def _speech_frames(samples: Floats, threshold: float) -> npt.NDArray[np.int64]:
    """Indices of the 10 ms frames VAD calls speech (within the mel frames' range)."""
    options = VadOptions(threshold=threshold, min_silence_duration_ms=300, speech_pad_ms=30)
    chunks = get_speech_timestamps(samples, options)
    total = 1 + len(samples) // HOP
    mask = np.zeros(total, bool)
    for chunk in chunks:
        mask[chunk["start"] // HOP : min(total, -(-chunk["end"] // HOP))] = True
    return np.flatnonzero(mask)


def _two_voices(prints: Floats) -> tuple[npt.NDArray[np.int64] | None, float]:
    """Cluster labels (0/1) of the voice prints and the share clearly placed, or None for
    one voice."""
    if len(prints) < 4:
        return None, 1.0
    sample = prints[:: -(-len(prints) // MAX_CLUSTERED)]
    candidates = [_kmeans(sample), _spectral(sample)]
    quality, chosen = max((_silhouette(sample, labels), i) for i, labels in enumerate(candidates))
    fitted = candidates[chosen]
    if quality < MIN_SILHOUETTE or np.bincount(fitted, minlength=2).min() < MIN_SHARE * len(sample):
        return None, 1.0
    centroids = _centroids(sample, fitted)
    if float(centroids[0] @ centroids[1]) > SAME_VOICE:
        return None, 1.0
    near = prints @ centroids.T
    best = np.argmax(near, axis=1).astype(np.int64)
    own = near[np.arange(len(best)), best]
    other = near[np.arange(len(best)), 1 - best]
    return best, float(np.mean(own - other > CLEAR_MARGIN))


def _centroids(prints: Floats, labels: npt.NDArray[np.int64]) -> Floats:
    means = np.stack([prints[labels == k].mean(axis=0) for k in (0, 1)])
    unit: Floats = (means / np.linalg.norm(means, axis=1, keepdims=True)).astype(np.float32)
    return unit


def _kmeans(prints: Floats, rounds: int = 20) -> npt.NDArray[np.int64]:
    """Spherical 2-means from the two most different prints (deterministic)."""
    similarity = prints @ prints.T
    a, b = np.unravel_index(int(np.argmin(similarity)), similarity.shape)
    centroids = prints[[a, b]]
    labels = np.zeros(len(prints), np.int64)
    for _ in range(rounds):
        new = np.argmax(prints @ centroids.T, axis=1).astype(np.int64)
        if np.bincount(new, minlength=2).min() == 0:
            break
        if np.array_equal(new, labels):
            break
        labels = new
        centroids = _centroids(prints, labels)
    return labels


def _spectral(prints: Floats) -> npt.NDArray[np.int64]:
    """The sign of the Fiedler vector of the prints' similarity graph."""
    affinity = np.clip(prints @ prints.T, 0.0, None).astype(np.float64)
    degree = affinity.sum(axis=1)
    scale = 1.0 / np.sqrt(degree)
    normalized = scale[:, None] * affinity * scale[None, :]
    _, vectors = np.linalg.eigh(normalized)
    fiedler = vectors[:, -2] * scale
    labels: npt.NDArray[np.int64] = (fiedler > 0).astype(np.int64)
    return labels


def _silhouette(prints: Floats, labels: npt.NDArray[np.int64]) -> float:
    """Mean silhouette with cosine distance; -1 for a split with an empty side."""
    counts = np.bincount(labels, minlength=2)
    if counts.min() < 2:
        return -1.0
    distance = 1.0 - prints @ prints.T
    own_sums = np.stack([distance[:, labels == k].sum(axis=1) for k in (0, 1)], axis=1)
    rows = np.arange(len(labels))
    a = own_sums[rows, labels] / (counts[labels] - 1)
    b = own_sums[rows, 1 - labels] / counts[1 - labels]
    return float(np.mean((b - a) / np.maximum(np.maximum(a, b), 1e-9)))


def _snap_to_pauses(
    speech: npt.NDArray[np.int64], labels: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Move each change of voice to the nearest pause within ``SNAP`` frames: people take
    turns at pauses, and a window straddling one blurs where the change is."""
    pauses = np.flatnonzero(np.diff(speech) > PAUSE) + 1  # positions where speech resumes
    labels = labels.copy()
    for change in np.flatnonzero(np.diff(labels)) + 1:
        if len(pauses) == 0:
            break
        pause = int(pauses[np.argmin(np.abs(pauses - change))])
        if abs(pause - change) <= SNAP:
            if pause > change:
                labels[change:pause] = labels[change - 1]
            else:
                labels[pause:change] = labels[change]
    return labels


def _runs(frames: npt.NDArray[np.int64], labels: npt.NDArray[np.int64]) -> list[Turn]:
    """Turns from labelled speech frames: a run lasts through silence until the voice
    changes."""
    turns: list[Turn] = []
    for frame, label in zip(frames.tolist(), labels.tolist(), strict=True):
        start, end = frame * FRAME, (frame + 1) * FRAME
        if turns and turns[-1].speaker == label:
            turns[-1] = replace(turns[-1], end=end)
        else:
            turns.append(Turn(start, end, int(label)))
    return turns


def _merge_short(turns: list[Turn]) -> list[Turn]:
    """Give each turn shorter than MIN_TURN to its neighbours, shortest first."""
    turns = list(turns)
    while len(turns) > 1:
        shortest = min(range(len(turns)), key=lambda i: turns[i].end - turns[i].start)
        if turns[shortest].end - turns[shortest].start >= MIN_TURN:
            break
        turns[shortest] = replace(turns[shortest], speaker=1 - turns[shortest].speaker)
        turns = _joined(turns)
    return turns


def _joined(turns: list[Turn]) -> list[Turn]:
    out: list[Turn] = []
    for turn in turns:
        if out and out[-1].speaker == turn.speaker:
            out[-1] = replace(out[-1], end=turn.end)
        else:
            out.append(turn)
    return out


def split_segments(segments: Sequence[Segment], turns: Sequence[Turn]) -> list[Segment]:
    """``segments`` cut where the voice changes, each word going to the turn it overlaps
    most; cluster 0 is labelled ``agent``, 1 ``customer`` (see :func:`swap_sides`)."""
    if not turns:
        return list(segments)
    out: list[Segment] = []
    for segment in segments:
        if not segment.words:
            side = _side(turns, segment.start, segment.end)
            out.append(replace(segment, speaker=side))
            continue
        groups: list[tuple[Speaker, list[Word]]] = []
        for word in segment.words:
            side = _side(turns, word.start, word.end)
            if groups and groups[-1][0] == side:
                groups[-1][1].append(word)
            else:
                groups.append((side, [word]))
        if len(groups) == 1:
            out.append(replace(segment, speaker=groups[0][0]))
            continue
        for side, words in groups:
            text = " ".join(w.word for w in words)
            out.append(
                replace(
                    segment,
                    start=words[0].start,
                    end=words[-1].end,
                    speaker=side,
                    text=text,
                    words=words,
                )
            )
    return out


def _side(turns: Sequence[Turn], start: float, end: float) -> Speaker:
    overlap = [0.0, 0.0]
    for turn in turns:
        overlap[turn.speaker] += max(0.0, min(end, turn.end) - max(start, turn.start))
    if overlap[0] == overlap[1] == 0.0:  # between turns: the nearest one
        middle = (start + end) / 2
        nearest = min(turns, key=lambda t: min(abs(t.start - middle), abs(t.end - middle)))
        return _NAMES[nearest.speaker]
    return _NAMES[0 if overlap[0] >= overlap[1] else 1]


_NAMES: tuple[Speaker, Speaker] = ("agent", "customer")


def swap_sides(segments: Sequence[Segment]) -> list[Segment]:
    """Agent and customer exchanged (the other cluster named agent, or a reviewer's swap)."""
    flip: dict[Speaker, Speaker] = {"agent": "customer", "customer": "agent", "unknown": "unknown"}
    return [replace(s, speaker=flip[s.speaker]) for s in segments]
