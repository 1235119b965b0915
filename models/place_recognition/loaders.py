"""Routes from image folders on disk: a generic layout, Nordland, Oxford RobotCar.

Images are read with Pillow: grayscale files (modes 1, L, I, F) stay grayscale,
every other mode becomes RGB; one traverse takes one size and one colour mode
unless ``size`` resizes each image to ``size`` x ``size`` (bilinear) as it is read.
Frames are put in order by *natural* sort of their file names (``img2`` before
``img10``), so unpadded frame numbers keep the driving order. Every traverse's
condition is its folder name.

Layouts:

- :func:`load_folders`: ``root/<traverse>/<image>`` and a CSV with the header
  ``traverse,image,place`` (``image`` relative to its traverse folder, ``place``
  a whole number); each traverse takes the listed images in the CSV's order, and
  files the CSV does not list are left out.
- :func:`load_nordland`: ``root/spring/``, ``root/summer/``, ``root/fall/``,
  ``root/winter/``, one image per frame, the frames of the four seasons aligned
  (the k-th frame of every season shows place k), as the VPR community's
  Nordland copies and the spiking place recognition papers' code lay it out.
- :func:`load_robotcar`: one folder per traverse (a recording date such as
  ``2014-12-09-13-21-02``, or a condition such as ``Sun``), its images named by
  their timestamp (``1418132416737115.png``), either directly in the folder or
  under ``stereo/centre/`` as the dataset ships them. The images must already be
  demosaiced (the dataset's raw frames are Bayer patterns; its SDK converts them).
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np

from spikemem.errors import ModelError

from .data import Route, Traverse, traverse

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".ppm", ".pgm")
_GRAY_MODES = ("1", "L", "LA", "I", "I;16", "F")


def load_folders(root, places_csv, reference, query: str, calibration: str | None = None,
                 size: int | None = None) -> Route:
    """A route from ``root/<traverse>/`` folders and a ``traverse,image,place`` CSV."""
    root = _folder(root)
    size = _size(size)
    rows = _read_csv(places_csv, ("traverse", "image", "place"))
    listed: dict[str, tuple[list[Path], list[int]]] = {}
    for line, row in rows:
        files, places = listed.setdefault(row["traverse"], ([], []))
        files.append(root / row["traverse"] / row["image"])
        places.append(_whole(row["place"], f"{places_csv}, line {line}: place"))
    names = _roles(reference, query, calibration)
    for name in names:
        if name not in listed:
            raise ModelError(f"{places_csv}: no image of traverse {name!r} is listed")
        _folder(root / name)
        _exist(listed[name][0])
    traverses = {name: _load(name, *listed[name], size) for name in names}
    try:
        return Route(traverses, tuple(reference), query, calibration)
    except ModelError as e:
        raise ModelError(f"{places_csv}: {e}") from None


def load_nordland(root, reference=("spring", "fall"), query: str = "summer", calibration: str | None = None,
                  every: int = 1, limit: int | None = None, size: int | None = None) -> Route:
    """Nordland: one folder per season, the k-th frame of each season is place k.

    ``every`` takes every k-th frame and ``limit`` at most that many of them (to
    thin the long sequences); place ids stay the frame numbers in the full
    sequence, so two loads of one copy agree. A filtered frame list (without
    tunnels and stops, say) is a ``traverse,image,place`` CSV for :func:`load_folders`.
    """
    root = _folder(root)
    every, limit, size = _positive(every, "every"), _limit(limit), _size(size)
    frames = {name: _frames(_images_in(root / name), every, limit) for name in _roles(reference, query, calibration)}
    traverses = {name: _load(name, files, places, size) for name, (files, places) in frames.items()}
    return Route(traverses, tuple(reference), query, calibration)


def load_robotcar(root, reference=("Sun", "Rain"), query: str = "Dusk", calibration: str | None = None,
                  places=None, every: int = 1, limit: int | None = None, size: int | None = None) -> Route:
    """Oxford RobotCar: one folder per traverse, images named by timestamp.

    ``places`` is a CSV with the header ``traverse,timestamp,place``: each
    traverse takes the listed timestamps in the CSV's order, with their place
    ids. Without it, the frames are taken as aligned, the k-th frame (by
    timestamp) of every traverse showing place k, as in the GPS-matched subsets
    of the spiking place recognition papers (``Sun``, ``Rain`` and ``Dusk``, their
    defaults here). ``every`` and ``limit`` thin the frames as in :func:`load_nordland`.
    """
    root = _folder(root)
    every, limit, size = _positive(every, "every"), _limit(limit), _size(size)
    names = _roles(reference, query, calibration)
    if places is None:
        frames = {name: _frames(_images_in(_camera_folder(root / name)), every, limit) for name in names}
    else:
        frames = _listed_frames(root, names, places, every, limit)
    traverses = {name: _load(name, files, ids, size) for name, (files, ids) in frames.items()}
    return Route(traverses, tuple(reference), query, calibration)


def _listed_frames(root: Path, names: list[str], places, every: int, limit: int | None):
    """Per traverse, the files and place ids a ``traverse,timestamp,place`` CSV lists."""
    listed: dict[str, list[tuple[str, int]]] = {}
    for line, row in _read_csv(places, ("traverse", "timestamp", "place")):
        stamp = row["timestamp"].strip()
        if not stamp.isdigit():
            raise ModelError(f"{places}, line {line}: timestamp {stamp!r} is not a whole number")
        listed.setdefault(row["traverse"], []).append((stamp, _whole(row["place"], f"{places}, line {line}: place")))
    frames = {}
    for name in names:
        if name not in listed:
            raise ModelError(f"{places}: no frame of traverse {name!r} is listed")
        by_stamp = {p.stem: p for p in _images_in(_camera_folder(root / name))}
        chosen = listed[name][::every][:limit]
        files = []
        for stamp, _ in chosen:
            if stamp not in by_stamp:
                raise ModelError(f"{places}: traverse {name!r} has no image with timestamp {stamp} "
                                 f"in {_camera_folder(root / name)}")
            files.append(by_stamp[stamp])
        frames[name] = (files, [p for _, p in chosen])
    return frames


def read_image(path, size: int | None = None) -> np.ndarray:
    """One image file as uint8 (H x W grayscale or H x W x 3 RGB), resized to
    ``size`` x ``size`` if given."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            im = im.convert("L" if im.mode in _GRAY_MODES else "RGB")
            if size is not None:
                im = im.resize((size, size), Image.BILINEAR)
            return np.asarray(im)
    except FileNotFoundError:
        raise ModelError(f"{path}: no such image file") from None
    except (UnidentifiedImageError, OSError) as e:
        raise ModelError(f"{path}: cannot read the image ({e})") from None


def _load(name: str, files: list[Path], places: list[int], size: int | None) -> Traverse:
    if not files:
        raise ModelError(f"traverse {name!r}: no images")
    images = [read_image(f, size) for f in files]
    return traverse(name, name, images, places, labels=[str(f) for f in files])


def _frames(files: list[Path], every: int, limit: int | None) -> tuple[list[Path], list[int]]:
    """Every ``every``-th file, at most ``limit`` of them, and their frame numbers."""
    frames = np.arange(len(files))[::every][:limit]
    return [files[k] for k in frames], frames.tolist()


def _exist(files: list[Path]) -> None:
    for f in files:
        if not f.is_file():
            raise ModelError(f"{f}: no such image file")


def _images_in(folder: Path) -> list[Path]:
    folder = _folder(folder)
    files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                   key=_natural)
    if not files:
        raise ModelError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)})")
    return files


def _camera_folder(folder: Path) -> Path:
    camera = folder / "stereo" / "centre"
    return camera if camera.is_dir() else folder


def _natural(path: Path):
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", path.name)]


def _folder(path) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise ModelError(f"{path}: no such folder")
    return path


def _roles(reference, query, calibration) -> list[str]:
    if isinstance(reference, str):
        raise ModelError(f"reference must be a sequence of traverse names, got the string {reference!r}")
    return [*reference, query] + ([calibration] if calibration is not None else [])


def _read_csv(path, columns: tuple[str, ...]):
    """``(line number, row)`` for each data row of a CSV with the given header."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise ModelError(f"{path}: cannot read the CSV ({e.strerror or e})") from None
    reader = csv.DictReader(text.splitlines())
    header = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in columns if c not in header]
    if missing:
        raise ModelError(f"{path}: the header must name the columns {', '.join(columns)}; "
                         f"{', '.join(missing)} missing (header: {','.join(header) or 'none'})")
    reader.fieldnames = header
    rows = [(i + 2, {c: (row[c] or "").strip() for c in columns}) for i, row in enumerate(reader)]
    if not rows:
        raise ModelError(f"{path}: no rows")
    return rows


def _whole(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ModelError(f"{what} {text!r} is not a whole number") from None


def _size(size) -> int | None:
    return None if size is None else _positive(size, "size")


def _limit(limit) -> int | None:
    return None if limit is None else _positive(limit, "limit")


def _positive(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ModelError(f"{what} must be a whole number >= 1, got {value!r}")
    return int(value)
