"""Counter-based randomness: the same (key, index) always gives the same numbers.

Telemetry must be a pure function of (seed, component, time), computable for any window
without walking history, so nothing here keeps state: every draw is splitmix64 evaluated
at a counter position, vectorised with numpy over sample indices.
"""

import hashlib

import numpy as np

GOLDEN = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1
_C1 = np.uint64(0xBF58476D1CE4E5B9)
_C2 = np.uint64(0x94D049BB133111EB)
# Counter positions per index: each sample index owns this many consecutive draws.
CHANNEL_STRIDE = 64
_U16 = 1.0 / 65536.0
_U53 = 1.0 / 9007199254740992.0


def mix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser over a uint64 array (wraps modulo 2**64)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _C1
    x = x ^ (x >> np.uint64(27))
    x = x * _C2
    return x ^ (x >> np.uint64(31))


def key_of(*parts: object) -> int:
    """A 64-bit key naming one random stream, e.g. key_of(seed, "vibration", asset_id)."""
    digest = hashlib.sha1(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def hex_id(*parts: object) -> str:
    """A deterministic 24-hex object id."""
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()[:24]


def _hashes(key: int | np.ndarray, index: np.ndarray, channels: int, offset: int = 0) -> np.ndarray:
    """Raw 64-bit draws for channels offset.. offset+channels-1, shape (len(index), channels).

    `key` is one stream key, or one key per index (uint64 array)."""
    if offset + channels > CHANNEL_STRIDE:
        raise ValueError(f"at most {CHANNEL_STRIDE} channels per index, got {offset + channels}")
    channel = np.arange(offset, offset + channels, dtype=np.uint64)
    counter = index.astype(np.uint64)[:, None] * np.uint64(CHANNEL_STRIDE) + channel
    keys = np.asarray(key, dtype=np.uint64)
    return mix64((keys[:, None] if keys.ndim else keys) + counter * np.uint64(GOLDEN))


def uniforms(
    key: int | np.ndarray, index: np.ndarray, channels: int, offset: int = 0
) -> np.ndarray:
    """Uniform draws in (0, 1), shape (len(index), channels)."""
    h = _hashes(key, index, channels, offset)
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * _U53


def normals(key: int, index: np.ndarray, channels: int, offset: int = 0) -> np.ndarray:
    """Approximately standard normal draws (Irwin-Hall of four 16-bit uniforms).

    Pure arithmetic, no transcendental functions, so a value never depends on where it
    sits in the array (SIMD and scalar paths agree bit for bit).
    """
    h = _hashes(key, index, channels, offset)
    total = np.zeros(h.shape, dtype=np.float64)
    for shift in (0, 16, 32, 48):
        total += ((h >> np.uint64(shift)) & np.uint64(0xFFFF)).astype(np.float64)
    return (total * _U16 + 4 * 0.5 * _U16 - 2.0) * 1.7320508075688772


def scalar_uniforms(key: int, count: int) -> list[float]:
    """`count` uniform draws in (0, 1) for per-entity parameters (profiles, episodes).

    The same numbers as uniforms(key, [0], count), in plain Python: faster for a few.
    """
    out = []
    for channel in range(count):
        x = (key + channel * GOLDEN) & _MASK
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
        x ^= x >> 31
        out.append(((x >> 11) + 0.5) * _U53)
    return out


def hex_ids(key: int, index: np.ndarray, offset: int = 0) -> list[str]:
    """One deterministic 24-hex id per index (e.g. rotation sample ids)."""
    raw = np.ascontiguousarray(_hashes(key, index, 2, offset)).view(np.uint8)
    text = np.ascontiguousarray(raw[:, :12]).tobytes().hex()
    return [text[i : i + 24] for i in range(0, len(text), 24)]
