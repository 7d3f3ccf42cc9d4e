"""Build AgentBench.old's Aquawar engine from the pinned source tarball into the user cache (``harness setup``).

The tarball (``HARNESS_DATA/dcg/agentbench_old_card_game_src.tar.gz``, THUDM/AgentTuning @ e33a45d, without the
binaries upstream committed) is unpacked into ``<user cache>/harness/dcg/<sha256 of the tarball>/`` and built there:

- the game logic with upstream's own Makefile (``g++ ... -o bin/main -std=c++17``, no optimisation flags, as upstream);
- the Python AI SDK (``sdk/ai_client*.so``, pybind11) with CMake and the settings of upstream's CMakeLists (C++17,
  Release, ``pybind11_add_module``). Upstream's CMakeLists hard-codes its author's pybind11 path, so the build uses
  the project's own two-line equivalent (``sdk_CMakeLists.txt``) pointed at the unpacked sources, plus one forced
  include (``seeded_entropy.h``): the SDK's ``std::random_device`` (baseline1 draws a 30 % normal-attack chance from
  it on every move) reads a sequence seeded by ``AQUAWAR_SEED``, so that a game is replayable from its seed.

Nothing of upstream is committed to the project; the build is keyed by the tarball's sha256 and the interpreter's
extension suffix, and is idempotent (a marker file per finished part; a file lock serialises concurrent setups).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_cache_dir

TARBALL = Path("dcg") / "agentbench_old_card_game_src.tar.gz"
TREE = "AgentBench.old/src/tasks/card_game"
HERE = Path(__file__).resolve().parent


class EngineMissing(RuntimeError):
    """The engine is not built (or its source is absent); the message says what to run."""


@dataclass(frozen=True)
class Engine:
    """A built engine: the unpacked upstream tree with ``logic/bin/main`` and the SDK module for this interpreter."""

    root: Path  # .../card_game

    @property
    def logic(self) -> Path:
        return self.root / "logic" / "bin" / "main"

    @property
    def python_dir(self) -> Path:
        return self.root / "AI_SDK" / "Python"

    def script(self, name: str) -> Path:
        return self.python_dir / name


def cache_root() -> Path:
    return Path(os.environ.get("HARNESS_DCG_CACHE") or Path(user_cache_dir("harness")) / "dcg")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _suffix() -> str:
    return sysconfig.get_config_var("EXT_SUFFIX") or ".so"


def _markers(base: Path) -> tuple[Path, Path]:
    return base / ".logic-built", base / f".sdk-built{_suffix()}"


def locate(tarball: Path) -> Engine:
    """The built engine for this tarball, or EngineMissing saying how to build it."""
    if not tarball.exists():
        raise EngineMissing(f"missing task data {tarball}: set HARNESS_DATA to the data folder or run "
                            "`harness data pull --only dcg/`")
    base = cache_root() / sha256_file(tarball)
    logic_ok, sdk_ok = _markers(base)
    if not (logic_ok.exists() and sdk_ok.exists()):
        raise EngineMissing(f"the card game engine is not built in {base}: run `harness setup --tasks dcg`")
    return Engine(base / TREE)


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _run(argv: list[str], cwd: Path, log) -> None:
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        tail = (r.stdout + r.stderr).strip().splitlines()[-15:]
        raise RuntimeError(f"`{' '.join(argv)}` failed in {cwd}:\n" + "\n".join(tail))
    log(f"  {' '.join(argv[:3])} ... ok")


def _unpack(tarball: Path, base: Path) -> None:
    if (base / TREE / "logic" / "Makefile").exists():
        return
    tmp = Path(tempfile.mkdtemp(prefix=".unpack-", dir=base))
    try:
        with tarfile.open(tarball) as tf:
            tf.extractall(tmp, filter="data")
        (tmp / "AgentBench.old").rename(base / "AgentBench.old")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _pybind11_cmakedir() -> str:
    try:
        import pybind11
    except ImportError:
        raise RuntimeError("pybind11 is missing: pip install 'agent-harness[dcg]'") from None
    return pybind11.get_cmake_dir()


def _build_sdk(root: Path, base: Path, log, jobs: int | None) -> None:
    log(f"building the Python AI SDK (pybind11) for {sys.executable} ...")
    build_dir = base / f"sdk-build{_suffix().replace('.', '-')}"
    shutil.rmtree(build_dir, ignore_errors=True)
    build_dir.mkdir()
    (build_dir / "CMakeLists.txt").write_text((HERE / "sdk_CMakeLists.txt").read_text())
    sdk = root / "AI_SDK" / "Python" / "sdk"
    _run(["cmake", "-S", ".", "-B", "out", f"-DAQUAWAR_SDK_DIR={sdk}",
          f"-DAQUAWAR_ENTROPY_HEADER={HERE / 'seeded_entropy.h'}", f"-Dpybind11_DIR={_pybind11_cmakedir()}",
          f"-DPython_EXECUTABLE={sys.executable}", "-DPYBIND11_FINDPYTHON=ON"], build_dir, log)
    _run(["cmake", "--build", "out", "-j", str(jobs or os.cpu_count() or 2)], build_dir, log)
    built = next((build_dir / "out").glob(f"ai_client*{_suffix()}"))
    shutil.copy2(built, sdk / built.name)
    shutil.rmtree(build_dir, ignore_errors=True)


def build(tarball: Path, log=print, jobs: int | None = None) -> Engine:
    """Unpack and build (idempotent); returns the engine."""
    if not tarball.exists():
        raise EngineMissing(f"missing task data {tarball}")
    base = cache_root() / sha256_file(tarball)
    base.mkdir(parents=True, exist_ok=True)
    logic_ok, sdk_ok = _markers(base)
    with _locked(base / ".lock"):
        _unpack(tarball, base)
        root = base / TREE
        logic = None
        if not logic_ok.exists():  # one g++ process; it runs beside the SDK build
            log(f"building the Aquawar game logic in {root / 'logic'} (upstream Makefile) ...")
            (root / "logic" / "bin").mkdir(exist_ok=True)
            logic = subprocess.Popen(["make", "-C", str(root / "logic")], cwd=root, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        try:
            if not sdk_ok.exists():
                _build_sdk(root, base, log, jobs)
                sdk_ok.touch()
        except BaseException:
            if logic is not None:
                logic.kill()
                logic.wait()
            raise
        if logic is not None:
            out, _ = logic.communicate()
            if logic.returncode != 0:
                raise RuntimeError(f"`make -C {root / 'logic'}` failed:\n" + "\n".join(out.splitlines()[-15:]))
            log("  make (logic) ... ok")
            logic_ok.touch()
    return Engine(base / TREE)


def install(log=print) -> None:
    """``harness setup --tasks dcg``: compilers from Debian, then the engine (skipped with a notice without data)."""
    from harness import data_dir
    from harness.services import apt_install

    tarball = data_dir() / TARBALL
    if not tarball.exists():
        log(f"dcg: {tarball} is absent, engine not built (set HARNESS_DATA or run `harness data pull --only dcg/`)")
        return
    apt_install(["g++", "make", "cmake"], check_binaries=["g++", "make", "cmake"])
    build(tarball, log=log)
