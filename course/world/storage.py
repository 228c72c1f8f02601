"""Saving and loading a world as plain Parquet files with a SHA-256 manifest.

Layout of ``data/world_<size>/`` (``data/README.md`` describes every column)::

    users.parquet  items.parquet  authors.parquet  follows.parquet  categories.parquet
    impressions.parquet  user_days.parquet  item_content.parquet
    truth/items.parquet  truth/users.parquet  truth/user_interests.parquet  truth/authors.parquet
    manifest.json        sizes, config name and seed, and the SHA-256 of every file

Parquet (not CSV) because the impressions table would be ten times larger as text and slower
to read; ``pandas.read_parquet`` opens any of these files on its own.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from course.world.config import get_config
from course.world.core import World

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
PUBLIC = ["users", "items", "authors", "follows", "categories", "impressions", "user_days"]
TRUTH = {"item_truth": "truth/items", "user_truth": "truth/users",
         "user_interests": "truth/user_interests", "author_truth": "truth/authors"}


class ChecksumError(RuntimeError):
    """A data file does not match the manifest (edited, truncated or from another version)."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write(frame: pd.DataFrame, path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    # Fixed writer settings so regeneration reproduces the same bytes.
    frame.to_parquet(path, engine="pyarrow", compression="zstd", index=False)


def save(world: World, directory: "str | Path | None" = None) -> Path:
    """Write ``world`` under ``directory`` (default ``data/world_<name>``); return the path."""
    directory = Path(directory) if directory is not None else DATA_DIR / f"world_{world.config.name}"
    files = {}
    for name in PUBLIC:
        files[f"{name}.parquet"] = getattr(world, name)
    content = pd.DataFrame(world.item_content,
                           columns=[f"content_{j}" for j in range(world.item_content.shape[1])])
    content.insert(0, "item_id", np.arange(len(content)))
    files["item_content.parquet"] = content
    for attribute, stem in TRUTH.items():
        files[f"{stem}.parquet"] = getattr(world, attribute)
    manifest = {"name": world.config.name, "seed": world.config.seed, "files": {}}
    for relative, frame in files.items():
        _write(frame, directory / relative)
        manifest["files"][relative] = {"rows": len(frame),
                                       "sha256": _sha256(directory / relative)}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return directory


def load(size: str = "small", directory: "str | Path | None" = None, verify: bool = True) -> World:
    """Read a shipped world (``data/world_<size>/``), verifying every file's checksum.

    Parameters
    ----------
    size : str
        Preset name; its config (seed, sizes) must match the manifest.
    directory : path, optional
        Where the files are; defaults to the repository's ``data/world_<size>``.
    verify : bool
        Check SHA-256 checksums against ``manifest.json`` (fast: a few tens of ms).
    """
    config = get_config(size)
    directory = Path(directory) if directory is not None else DATA_DIR / f"world_{config.name}"
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(
            f"no world at {directory} (manifest.json missing). Only 'small' ships with the "
            f"course; make any size with course.world.generate({config.name!r}) and save it "
            f"with course.world.save(world).")
    manifest = json.loads(manifest_path.read_text())
    if manifest["name"] != config.name or manifest["seed"] != config.seed:
        raise ChecksumError(f"{directory} holds world {manifest['name']!r} (seed "
                            f"{manifest['seed']}), not {config.name!r} (seed {config.seed})")
    frames = {}
    for relative, entry in manifest["files"].items():
        path = directory / relative
        if verify and _sha256(path) != entry["sha256"]:
            raise ChecksumError(f"{path} does not match its checksum in manifest.json: the "
                                f"file was changed; restore it (git checkout) or regenerate "
                                f"with course.world.generate({config.name!r})")
        frames[relative] = pd.read_parquet(path)
    tables = {name: frames[f"{name}.parquet"] for name in PUBLIC}
    tables.update({attribute: frames[f"{stem}.parquet"] for attribute, stem in TRUTH.items()})
    content = frames["item_content.parquet"]
    tables["item_content"] = content.drop(columns="item_id").to_numpy(dtype=np.float32)
    return World(config, tables)
