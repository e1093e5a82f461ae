"""Read the tensors of a PyTorch checkpoint into numpy, without PyTorch and without trusting it.

A ``.pt`` file is pickles, and unpickling runs whatever the file names. This unpickler builds
only what a checkpoint of plain float tensors holds (dicts, ``OrderedDict``, tensors over
float/int storages) and refuses any other global, so a tampered file raises instead of
running code. Both of torch's layouts are read: the legacy stream (magic number, protocol,
system info, the object, the storage keys, then each storage as a little-endian int64 count
followed by its data) and the zip archive (``data.pkl`` beside ``data/<key>`` files).
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import IO, Any

import numpy as np
import numpy.typing as npt

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_TYPES: dict[str, np.dtype[Any]] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
}


class UnsafeCheckpoint(ValueError):
    """The file names something other than plain tensors: it is not loaded."""


class _Storage:
    """A storage named in the pickle; its bytes are filled in once read."""

    def __init__(self, dtype: np.dtype[Any]) -> None:
        self.dtype = dtype
        self.data: npt.NDArray[Any] | None = None


class _LazyTensor:
    """A tensor whose storage is read after the object (the legacy layout)."""

    def __init__(
        self, storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...]
    ) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def array(self) -> npt.NDArray[Any]:
        data = self.storage.data
        if data is None:
            raise UnsafeCheckpoint("a tensor refers to a storage the file does not hold")
        item = data.itemsize
        needed = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride, strict=True))
        if self.size and (min(self.size) > 0) and needed >= len(data):
            raise UnsafeCheckpoint("a tensor reaches past the end of its storage")
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :],
            shape=self.size,
            strides=tuple(s * item for s in self.stride),
            writeable=False,
        )
        return np.array(view)


def _rebuild_tensor_v2(
    storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...], *_: Any
) -> _LazyTensor:
    return _LazyTensor(storage, int(offset), tuple(size), tuple(stride))


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: IO[bytes], storages: dict[str, _Storage]) -> None:
        super().__init__(file)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_TYPES:
            return _STORAGE_TYPES[name]
        raise UnsafeCheckpoint(f"the checkpoint names {module}.{name}, which is not a tensor")

    def persistent_load(self, pid: Any) -> _Storage:
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise UnsafeCheckpoint(f"unknown persistent id {pid!r}")
        dtype, key = pid[1], str(pid[2])
        if not isinstance(dtype, np.dtype):
            raise UnsafeCheckpoint("a storage of an unknown type")
        return self.storages.setdefault(key, _Storage(dtype))


def load(path: Path) -> dict[str, npt.NDArray[Any]]:
    """Every tensor of the checkpoint at ``path``, by its dotted key (``model_state.lstm...``)."""
    with open(path, "rb") as f:
        if zipfile.is_zipfile(f):
            f.seek(0)
            return _load_zip(f)
        f.seek(0)
        return _load_legacy(f)


def _load_legacy(f: IO[bytes]) -> dict[str, npt.NDArray[Any]]:
    plain = _Unpickler(f, {})  # magic, protocol, system info: plain values only
    if plain.load() != _LEGACY_MAGIC:
        raise UnsafeCheckpoint("not a PyTorch checkpoint")
    plain.load()
    info = plain.load()
    if not (isinstance(info, dict) and info.get("little_endian", True)):
        raise UnsafeCheckpoint("a big-endian checkpoint")
    storages: dict[str, _Storage] = {}
    result = _Unpickler(f, storages).load()
    keys = _Unpickler(f, {}).load()
    for key in keys:
        storage = storages.get(str(key))
        if storage is None:
            raise UnsafeCheckpoint(f"storage {key} is not used by the checkpoint")
        count = int(np.frombuffer(_read(f, 8), "<i8")[0])
        storage.data = np.frombuffer(_read(f, count * storage.dtype.itemsize), storage.dtype)
    return _flatten(result)


def _load_zip(f: IO[bytes]) -> dict[str, npt.NDArray[Any]]:
    with zipfile.ZipFile(f) as archive:
        names = archive.namelist()
        pickled = next((n for n in names if n.endswith("/data.pkl") or n == "data.pkl"), None)
        if pickled is None:
            raise UnsafeCheckpoint("the archive has no data.pkl")
        prefix = pickled[: -len("data.pkl")]
        storages: dict[str, _Storage] = {}
        result = _Unpickler(io.BytesIO(archive.read(pickled)), storages).load()
        for key, storage in storages.items():
            raw = archive.read(f"{prefix}data/{key}")
            storage.data = np.frombuffer(raw, storage.dtype)
    return _flatten(result)


def _read(f: IO[bytes], size: int) -> bytes:
    data = f.read(size)
    if len(data) != size:
        raise UnsafeCheckpoint("the checkpoint is truncated")
    return data


def _flatten(value: Any, prefix: str = "") -> dict[str, npt.NDArray[Any]]:
    if isinstance(value, _LazyTensor):
        return {prefix: value.array()}
    if isinstance(value, dict):
        out: dict[str, npt.NDArray[Any]] = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {}
