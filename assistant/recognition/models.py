"""Where recognition models come from, and fetching the English Vosk model safely.

The download is checked against a pinned SHA-256 and unpacked into a temporary folder
beside the target, then renamed into place, so an interrupted download never leaves a
half-unpacked model that would later fail to load.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
VOSK_MODEL_ENV = "FOOTCARE_VOSK_MODEL"


@dataclass(frozen=True)
class ModelArchive:
    name: str
    url: str
    sha256: str
    size: int


VOSK_EN = ModelArchive(
    name="vosk-model-small-en-us-0.15",
    url="https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
    sha256="30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
    size=41_205_931,
)


class ModelError(Exception):
    """A model is missing, broken or could not be fetched; the message says the fix."""


def is_vosk_model(path: Path) -> bool:
    """A folder that looks like an unpacked Vosk model."""
    return (path / "am" / "final.mdl").is_file() and (path / "conf").is_dir()


def vosk_cache_dirs() -> list[Path]:
    """Folders where vosk itself keeps downloaded models."""
    try:
        import vosk

        return [Path(d) for d in vosk.MODEL_DIRS if d]
    except (ImportError, AttributeError):
        return [Path.home() / ".cache" / "vosk"]


def find_vosk_model(explicit: str | Path | None = None) -> Path | None:
    """The English Vosk model to use: option, then $FOOTCARE_VOSK_MODEL, models/, vosk's cache."""
    for given in (explicit, os.environ.get(VOSK_MODEL_ENV)):
        if given:
            path = Path(given).expanduser()
            if not is_vosk_model(path):
                raise ModelError(f"{path} is not a Vosk model folder (no am/final.mdl); "
                                 f"run `footcare models download` or point to an unpacked model")
            return path
    for folder in [MODELS_DIR, *vosk_cache_dirs()]:
        if not folder.is_dir():
            continue
        for candidate in sorted(folder.glob("vosk-model*en-us*")):
            if is_vosk_model(candidate):
                return candidate
    return None


def download(archive: ModelArchive = VOSK_EN, dest: Path = MODELS_DIR,
             url: str | None = None, progress: bool = True) -> Path:
    """Fetch, verify and unpack `archive` into `dest`; returns the model folder."""
    target = dest / archive.name
    if is_vosk_model(target):
        return target
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".download-") as tmp:
        zip_path = Path(tmp) / f"{archive.name}.zip"
        _fetch(url or archive.url, zip_path, progress)
        digest = _sha256(zip_path)
        if digest != archive.sha256:
            raise ModelError(f"the download of {archive.name} is corrupt (SHA-256 {digest[:12]}..., "
                             f"expected {archive.sha256[:12]}...); run `footcare models download` again")
        unpacked = Path(tmp) / "unpacked"
        try:
            with zipfile.ZipFile(zip_path) as zf:
                _check_members(zf, unpacked)
                zf.extractall(unpacked)
        except zipfile.BadZipFile as exc:
            raise ModelError(f"the download of {archive.name} is not a zip file ({exc})") from None
        inner = unpacked / archive.name
        if not is_vosk_model(inner):
            raise ModelError(f"the archive of {archive.name} holds no Vosk model folder")
        if target.exists():
            shutil.rmtree(target)
        os.replace(inner, target)
    return target


def _fetch(url: str, path: Path, progress: bool) -> None:
    try:
        with urllib.request.urlopen(url, timeout=30) as resp, open(path, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0)
            done = 0
            while chunk := resp.read(1 << 20):
                out.write(chunk)
                done += len(chunk)
                if progress and total:
                    print(f"\r{done * 100 // total:3d}% of {total // 1_000_000} MB", end="", flush=True)
        if progress:
            print()
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot download {url} ({exc}); check the internet connection, or copy "
                         f"the unpacked model into {MODELS_DIR}") from None


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _check_members(zf: zipfile.ZipFile, root: Path) -> None:
    """Refuse archives whose paths would escape the unpack folder."""
    base = root.resolve()
    for name in zf.namelist():
        if not (base / name).resolve().is_relative_to(base):
            raise ModelError(f"the model archive has an unsafe path: {name}")
