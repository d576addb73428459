"""Finding the microphone and the speaker, by name or index."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["input", "output"]
NO_DEVICE_HINT = "To try the session without sound devices, run `footcare simulate`."


class DeviceError(Exception):
    """No usable sound device: said plainly, with the way out."""


@dataclass(frozen=True)
class Device:
    index: int
    name: str
    sample_rate: int
    """The device's own default rate; streams open at it and we resample ourselves."""


def _sd():
    try:
        import sounddevice
    except OSError as exc:  # PortAudio missing: sounddevice raises at import
        raise DeviceError(f"the sound library is not available ({exc}). {NO_DEVICE_HINT}") from exc
    return sounddevice


BLOCK_S = 0.010
"""PortAudio block: 10 ms, so a cut or a microphone frame is never more than that late."""


def open_stream(kind: Literal["input", "output"], device: Device, latency: float | str,
                callback) -> Any:
    """A mono float32 stream on `device` at its own rate, in BLOCK_S blocks; DeviceError if it
    cannot be opened (busy, unplugged, no such rate)."""
    sd = _sd()
    stream_type = sd.InputStream if kind == "input" else sd.OutputStream
    try:
        return stream_type(
            device=device.index,
            samplerate=device.sample_rate,
            channels=1,
            dtype="float32",
            blocksize=max(1, int(device.sample_rate * BLOCK_S)),
            latency=latency,
            callback=callback,
        )
    except (sd.PortAudioError, ValueError) as exc:
        what = "microphone" if kind == "input" else "speaker"
        raise DeviceError(f"cannot open the {what} {device.name!r}: {exc}") from exc


def list_devices() -> list[dict]:
    """Every device PortAudio sees, with its channel counts and default rate."""
    sd = _sd()
    try:
        devices = sd.query_devices()
    except sd.PortAudioError as exc:
        raise DeviceError(f"cannot list sound devices: {exc}. {NO_DEVICE_HINT}") from exc
    return [dict(d, index=i) for i, d in enumerate(devices)]


def describe_devices() -> str:
    """The `footcare devices` listing, marking the defaults."""
    sd = _sd()
    rows = list_devices()
    if not rows:
        return f"No sound devices found. {NO_DEVICE_HINT}"
    default_in, default_out = _defaults(sd)
    lines = []
    for d in rows:
        mark = ("<" if d["index"] == default_in else " ") + (">" if d["index"] == default_out else " ")
        lines.append(
            f"{mark} {d['index']:3d}  {d['name']}  "
            f"(in {d['max_input_channels']}, out {d['max_output_channels']}, "
            f"{int(d['default_samplerate'])} Hz)"
        )
    lines.append("< default microphone, > default speaker. Choose with --input/--output NAME or INDEX.")
    return "\n".join(lines)


def _defaults(sd) -> tuple[int, int]:
    pair = sd.default.device
    return int(pair[0]) if pair[0] is not None else -1, int(pair[1]) if pair[1] is not None else -1


def find_device(spec: str | int | None, kind: Kind) -> Device:
    """The device `spec` names (index, or part of its name), or the default one."""
    sd = _sd()
    channels = "max_input_channels" if kind == "input" else "max_output_channels"
    what = "microphone" if kind == "input" else "speaker"
    rows = [d for d in list_devices() if d[channels] > 0]
    if not rows:
        raise DeviceError(f"no {what} found. {NO_DEVICE_HINT}")
    if spec is None or spec == "":
        default = _defaults(sd)[0 if kind == "input" else 1]
        chosen = [d for d in rows if d["index"] == default] or rows[:1]
    elif isinstance(spec, int) or str(spec).isdigit():
        chosen = [d for d in rows if d["index"] == int(spec)]
    else:
        chosen = [d for d in rows if str(spec).lower() in d["name"].lower()]
        exact = [d for d in chosen if d["name"].lower() == str(spec).lower()]
        chosen = exact or chosen
    if not chosen:
        raise DeviceError(f"no {what} matches {spec!r}; `footcare devices` lists them. {NO_DEVICE_HINT}")
    if len(chosen) > 1:
        names = ", ".join(f"{d['index']}: {d['name']}" for d in chosen)
        raise DeviceError(f"{spec!r} matches several devices ({names}); give the index.")
    d = chosen[0]
    return Device(d["index"], d["name"], int(d["default_samplerate"]))
