#!/usr/bin/env python3
"""Packs a function for deployment: its folder plus the shared code, as Appwrite deploys it.

Appwrite deploys one folder per function, so code shared between functions must travel inside
each archive. This packer is the one place that decides how: it copies `functions/NAME/`
(without tests, caches and virtual environments) and puts `functions/shared/` inside it as
`src/shared/`, a package the entrypoint imports relatively (`from .shared import utils`; the
open-runtimes server imports the entrypoint as `function.src.main`). The end-to-end tests deploy
what it builds and the unit tests import what it stages, so both run exactly what ships.

Archives are reproducible: sorted entries, zero timestamps and owners, so the same sources give
the same bytes (and the same checksum) on every machine.

    python functions/package.py NAME... [--out DIR]     # DIR/NAME.tar.gz (default .qw/build/functions)
    python functions/package.py NAME... --stage DIR     # DIR/NAME/ as a folder (e.g. for `appwrite push`)
"""

import argparse
import gzip
import io
import pathlib
import shutil
import sys
import tarfile

FUNCTIONS = pathlib.Path(__file__).resolve().parent
ROOT = FUNCTIONS.parent
SHARED = FUNCTIONS / "shared"
SHARED_TARGET = "src/shared"
# What never ships: tests, caches, virtual environments, editor and OS litter.
IGNORED_DIRS = {"tests", "__pycache__", ".venv", ".pytest_cache", ".mypy_cache", "node_modules", ".appwrite"}
IGNORED_SUFFIXES = (".pyc", ".pyo", ".swp", "~")
IGNORED_NAMES = {".DS_Store"}


def function_names():
    """Every function folder (a folder with function.json)."""
    return sorted(p.name for p in FUNCTIONS.iterdir() if (p / "function.json").is_file())


def _wanted(relative: pathlib.PurePosixPath):
    if any(part in IGNORED_DIRS for part in relative.parts):
        return False
    return relative.name not in IGNORED_NAMES and not relative.name.endswith(IGNORED_SUFFIXES)


def files_of(name):
    """(path inside the archive, source file) for every file of function `name`, sorted."""
    folder = FUNCTIONS / name
    if not (folder / "function.json").is_file():
        raise SystemExit(f"package.py: {folder} is not a function folder (no function.json)")
    out = {}
    for source in folder.rglob("*"):
        rel = pathlib.PurePosixPath(source.relative_to(folder).as_posix())
        if source.is_file() and _wanted(rel):
            out[str(rel)] = source
    for source in SHARED.rglob("*"):
        rel = pathlib.PurePosixPath(source.relative_to(SHARED).as_posix())
        if source.is_file() and _wanted(rel):
            target = f"{SHARED_TARGET}/{rel}"
            if target in out:
                raise SystemExit(f"package.py: {name} has its own {target}, which the shared code would overwrite")
            out[target] = source
    return sorted(out.items())


def archive_bytes(name) -> bytes:
    """The deployment archive (.tar.gz) of function `name`."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for arcname, source in files_of(name):
            data = source.read_bytes()
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            info.mode = 0o755 if source.stat().st_mode & 0o111 else 0o644
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def stage(name, dest: pathlib.Path) -> pathlib.Path:
    """Writes function `name` as it ships into `dest/`, replacing what was there."""
    dest = pathlib.Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    for arcname, source in files_of(name):
        target = dest / arcname
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return dest


def main(argv=None):
    parser = argparse.ArgumentParser(description="Pack QuixoticWhisper functions with their shared code.")
    parser.add_argument("names", nargs="*", help="function names (default: all)")
    parser.add_argument("--out", default=str(ROOT / ".qw" / "build" / "functions"), help="folder for NAME.tar.gz")
    parser.add_argument("--stage", help="write folders DIR/NAME/ instead of archives")
    args = parser.parse_args(argv)
    names = args.names or function_names()
    for name in names:
        if args.stage:
            path = stage(name, pathlib.Path(args.stage) / name)
        else:
            out = pathlib.Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"{name}.tar.gz"
            path.write_bytes(archive_bytes(name))
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
