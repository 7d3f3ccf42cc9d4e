"""WebShop's product catalogue: upstream's product loading, prices and goals, built once into a shared read-only store.

Upstream (``web_agent_site/engine/engine.py: load_products``, ``goal.py``) loads the whole JSON catalogue into memory
(AgentBench warns of about 16 GB). Here the catalogue is streamed once (``ijson``) and turned into files under the
user cache folder, keyed by the sha256 of the input files: a product store (one JSON line per processed product, read
by offset through a memory map), the BM25 index (``bm25.py``), per-product arrays (ASINs, prices, category and query
codes) and the state of the price random generator. Every env instance in a process shares one ``Catalogue`` object;
processes share the files through the page cache.

What is reproduced from upstream, in order: products whose ASIN is ``nan`` or longer than 10 characters are skipped,
as are repeated ASINs; fields as upstream derives them (``Title``, ``Description``, ``BulletPoints``, ``Price`` and
``pricing`` parsed from the price text, lower-cased options with ``/`` written `` | ``, ``Attributes`` from the
instruction file or ``DUMMY_ATTR``); the search document of each product (title, description, first bullet point and
options, lower-cased). Prices: a price range draws a uniform price. Goals: the human goals (``items_human_ins.json``,
instructions without attributes skipped) or the synthetic goals (one per option combination of every product that has
a synthetic instruction), each with a price bound drawn from the next 4 multiples of ten above the price, then
shuffled with ``random.seed(233)``. Upstream draws the prices and price bounds from Python's unseeded global
generator, so its goals' price bounds change from run to run; here the same draws come, in the same order, from a
generator seeded with ``PRICE_SEED`` (upstream with ``random.seed(PRICE_SEED)`` set before loading gives the same goals).
"""
from __future__ import annotations

import fcntl
import hashlib
import itertools
import json
import os
import random
import re
import shutil
import tempfile
import threading
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from harness import file_sha256

from . import bm25

BUILD_VERSION = "1"
PRICE_SEED = 233
SHUFFLE_SEED = 233  # upstream: random.seed(233); random.shuffle(goals)
PRICE_RANGE = [10.0 * i for i in range(1, 100)]
DEFAULT_PRICE = 100.0
_NOT_DIGIT_OR_DOT = re.compile(r"[^\d.]")


# --- one product, as upstream's load_products processes it --------------------------------------------------------------
def parse_pricing(text: Any) -> tuple[list[float], str]:
    """(pricing, price tag) from the raw price text: ``$a`` or ``$a - $b`` (more than two prices keep the first two)."""
    if not text:
        return [DEFAULT_PRICE], f"${DEFAULT_PRICE}"
    try:
        prices = [float(Decimal(_NOT_DIGIT_OR_DOT.sub("", p))) for p in str(text).split("$")[1:]]
    except InvalidOperation:
        prices = []
    if not prices:  # upstream fails on such a price text; here the product gets the default price
        return [DEFAULT_PRICE], f"${DEFAULT_PRICE}"
    if len(prices) == 1:
        return prices, f"${prices[0]}"
    return prices[:2], f"${prices[0]} to ${prices[1]}"


def parse_options(raw: Any) -> list[tuple[str, list[str]]]:
    """Option groups in order: lower-cased names, values stripped, lower-cased, with ``/`` written `` | ``."""
    options: dict[str, list[str]] = {}
    if raw and isinstance(raw, dict):
        for name, contents in raw.items():
            if contents is None:
                continue
            options[str(name).lower()] = [str(c["value"]).strip().replace("/", " | ").lower() for c in contents]
    return list(options.items())


def process(raw: dict[str, Any], ins: dict[str, Any] | None) -> dict[str, Any]:
    """The fields of one product that the pages, the search document, the goals and the reward use."""
    small = raw.get("small_description")
    bullets = small if isinstance(small, list) else [small]
    pricing, tag = parse_pricing(raw.get("pricing"))
    record = {
        "asin": raw["asin"],
        "name": raw.get("name"),
        "category": raw.get("category"),
        "query": str(raw.get("query") or "").lower().strip(),
        "product_category": raw.get("product_category"),
        "Description": raw.get("full_description"),
        "BulletPoints": bullets,
        "Price": tag,
        "pricing": pricing,
        "options": parse_options(raw.get("customization_options")),
        "Attributes": ins["attributes"] if ins is not None and "attributes" in ins else ["DUMMY_ATTR"],
    }
    if ins is not None and ins.get("instruction") is not None:
        record["instruction_text"] = ins.get("instruction")
        record["instruction_attributes"] = ins.get("instruction_attributes")
    return record


def search_document(p: dict[str, Any]) -> str:
    """The text upstream's search_engine/convert_product_file_format.py indexes for a product."""
    option_text = ", and ".join(f"{name}: {', '.join(values)}" for name, values in p["options"])
    first_bullet = p["BulletPoints"][0] if p["BulletPoints"] else ""
    return " ".join(str(x) for x in (p["name"], p["Description"], first_bullet, option_text)).lower()


def draw_price(rng: random.Random, pricing: list[float]) -> float:
    return pricing[0] if len(pricing) == 1 else rng.uniform(*pricing[:2])


def price_bound(rng: random.Random, price: float) -> tuple[float, str]:
    candidates = [p for p in PRICE_RANGE if p > price][:4]
    if len(candidates) >= 2:
        _, upper = sorted(rng.sample(candidates, 2))
        return upper, f", and price lower than {upper:.2f} dollars"
    return 1000000, ""


# --- reading the input files -------------------------------------------------------------------------------------------
def iter_products(path: Path) -> Iterator[dict[str, Any]]:
    """The raw products of a catalogue file (a JSON list), streamed."""
    import ijson

    with open(path, "rb") as f:
        yield from ijson.items(f, "item", use_float=True)


def load_instructions(path: Path) -> dict[str, dict[str, Any]]:
    """``items_ins_v2*.json`` streamed into {asin: {attributes, instruction, instruction_attributes}}."""
    import ijson

    keep = ("attributes", "instruction", "instruction_attributes")
    out: dict[str, dict[str, Any]] = {}
    with open(path, "rb") as f:
        for asin, value in ijson.kvitems(f, "", use_float=True):
            out[asin] = {k: value[k] for k in keep if isinstance(value, dict) and k in value}
    return out


_CACHE_OVERRIDE: list[Path] = []


def _cache_root() -> Path:
    if _CACHE_OVERRIDE:
        return _CACHE_OVERRIDE[-1]
    env = os.environ.get("HARNESS_WEBSHOP_CACHE")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("harness")) / "webshop"


# --- building ----------------------------------------------------------------------------------------------------------
def build(items: Path, instructions: Path, out: Path, progress: Any = None) -> dict[str, Any]:
    """Stream the catalogue once and write the store, the index and the arrays into ``out`` (a new folder)."""
    out.mkdir(parents=True)
    ins = load_instructions(instructions)
    writer = bm25.IndexWriter()
    rng = random.Random(PRICE_SEED)
    seen: set[str] = set()
    asins: list[str] = []
    prices: list[float] = []
    categories: dict[str, int] = {}
    queries: dict[str, int] = {}
    cat_codes: list[int] = []
    query_codes: list[int] = []
    synthetic_rows: list[int] = []
    offsets = [0]
    skipped = 0
    with open(out / "products.jsonl", "wb") as store:
        for raw in iter_products(items):
            asin = raw.get("asin")
            if not isinstance(asin, str) or asin == "nan" or len(asin) > 10 or asin in seen:
                skipped += 1
                continue
            seen.add(asin)
            p = process(raw, ins.get(asin))
            line = json.dumps(p, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
            store.write(line)
            offsets.append(offsets[-1] + len(line))
            writer.add(search_document(p))
            if "instruction_text" in p:
                synthetic_rows.append(len(asins))
            asins.append(asin)
            prices.append(float(draw_price(rng, p["pricing"])))
            cat_codes.append(categories.setdefault(str(p["category"]), len(categories)))
            query_codes.append(queries.setdefault(p["query"], len(queries)))
            if progress is not None and len(asins) % 100000 == 0:
                progress(len(asins))
    del ins, seen
    writer.finish(out / "index")
    np.save(out / "offsets.npy", np.array(offsets, dtype=np.int64))
    asin_arr = np.array(asins, dtype="S10")
    np.save(out / "asins.npy", asin_arr)
    order = np.argsort(asin_arr, kind="stable").astype(np.int64)
    np.save(out / "asin_order.npy", order)
    np.save(out / "asins_sorted.npy", asin_arr[order])
    np.save(out / "prices.npy", np.array(prices, dtype=np.float64))
    np.save(out / "categories.npy", np.array(cat_codes, dtype=np.int32))
    np.save(out / "queries.npy", np.array(query_codes, dtype=np.int32))
    meta = {"products": len(asins), "skipped": skipped, "categories": list(categories), "queries": list(queries),
            "synthetic_rows": synthetic_rows, "rng_state": _state_to_json(rng.getstate()),
            "build_version": BUILD_VERSION, "price_seed": PRICE_SEED}
    (out / "meta.json").write_text(json.dumps(meta))
    return meta


def _state_to_json(state: tuple) -> list:
    return [state[0], list(state[1]), state[2]]


def _state_from_json(state: list) -> tuple:
    return (state[0], tuple(state[1]), state[2])


_LOCK = threading.Lock()
_OPEN: dict[str, "Catalogue"] = {}


def open_catalogue(items: Path, instructions: Path, cache: Path | None = None, progress: Any = None) -> "Catalogue":
    """The catalogue built from these files (built on first use; later calls and processes reuse the build)."""
    if cache is not None:
        _CACHE_OVERRIDE.append(Path(cache))
    try:
        key = hashlib.sha256(
            f"{file_sha256(items)}|{file_sha256(instructions)}|{BUILD_VERSION}|{PRICE_SEED}".encode()).hexdigest()[:24]
        root = _cache_root()
    finally:
        if cache is not None:
            _CACHE_OVERRIDE.pop()
    folder = root / f"catalogue-{key}"
    with _LOCK:
        if str(folder) in _OPEN:
            return _OPEN[str(folder)]
        if not (folder / "meta.json").exists():
            root.mkdir(parents=True, exist_ok=True)
            with open(root / f".{key}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # one builder per catalogue, across processes
                if not (folder / "meta.json").exists():
                    tmp = Path(tempfile.mkdtemp(prefix=f".build-{key}-", dir=root))
                    try:
                        build(items, instructions, tmp / "c", progress)
                        (tmp / "c").replace(folder)
                    finally:
                        shutil.rmtree(tmp, ignore_errors=True)
        cat = Catalogue(folder)
        _OPEN[str(folder)] = cat
        return cat


# --- reading a build ---------------------------------------------------------------------------------------------------
class Catalogue:
    """A built catalogue, read-only: products by row, ASIN lookup, prices, search. Thread-safe."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.meta = json.loads((self.folder / "meta.json").read_text())
        self.n = int(self.meta["products"])
        self.offsets = np.load(self.folder / "offsets.npy", mmap_mode="r")
        path = self.folder / "products.jsonl"
        self._store = np.memmap(path, dtype=np.uint8, mode="r") if path.stat().st_size else np.zeros(0, np.uint8)
        self.asins = np.load(self.folder / "asins.npy", mmap_mode="r")
        self.asin_order = np.load(self.folder / "asin_order.npy", mmap_mode="r")
        self.asins_sorted = np.load(self.folder / "asins_sorted.npy", mmap_mode="r")
        self.prices = np.load(self.folder / "prices.npy", mmap_mode="r")
        self.category_codes = np.load(self.folder / "categories.npy", mmap_mode="r")
        self.query_codes = np.load(self.folder / "queries.npy", mmap_mode="r")
        tie_rank = np.empty(self.n, dtype=np.int64)
        tie_rank[np.asarray(self.asin_order)] = np.arange(self.n, dtype=np.int64)
        self.searcher = bm25.Searcher(self.folder / "index", tie_rank)
        self._goals: dict[str, list[dict[str, Any]]] = {}
        self._goal_lock = threading.Lock()

    def __len__(self) -> int:
        return self.n

    @lru_cache(maxsize=4096)
    def product(self, row: int) -> dict[str, Any]:
        lo, hi = int(self.offsets[row]), int(self.offsets[row + 1])
        return json.loads(bytes(self._store[lo:hi]))

    def row_of(self, asin: str) -> int | None:
        if not asin.isascii() or not 0 < len(asin) <= 10:
            return None
        key = asin.encode("ascii")
        i = int(np.searchsorted(self.asins_sorted, key))
        if i < self.n and bytes(self.asins_sorted[i]) == key:
            return int(self.asin_order[i])
        return None

    def asin(self, row: int) -> str:
        return bytes(self.asins[row]).decode("ascii")

    def price(self, row: int) -> float:
        return float(self.prices[row])

    def search(self, query: str, k: int) -> list[int]:
        return self.searcher.search(query, k)

    def rows_with_category(self, category: str) -> list[int]:
        try:
            code = self.meta["categories"].index(category)
        except ValueError:
            return []
        return [int(r) for r in np.nonzero(np.asarray(self.category_codes) == code)[0]]

    def rows_with_query(self, query: str) -> list[int]:
        try:
            code = self.meta["queries"].index(query)
        except ValueError:
            return []
        return [int(r) for r in np.nonzero(np.asarray(self.query_codes) == code)[0]]

    # --- goals -------------------------------------------------------------------------------------------------------
    def goals(self, kind: str, human_instructions: Path | None = None) -> list[dict[str, Any]]:
        """Upstream's goal list, shuffled: ``kind`` is "human" (needs ``items_human_ins.json``) or "synthetic"."""
        key = f"{kind}|{human_instructions}"
        with self._goal_lock:
            if key not in self._goals:
                rng = random.Random()
                rng.setstate(_state_from_json(self.meta["rng_state"]))
                if kind == "human":
                    goals = self._human_goals(rng, Path(human_instructions))  # type: ignore[arg-type]
                elif kind == "synthetic":
                    goals = self._synthetic_goals(rng)
                else:
                    raise ValueError(kind)
                random.Random(SHUFFLE_SEED).shuffle(goals)
                self._goals[key] = goals
            return self._goals[key]

    def _goal_base(self, row: int) -> dict[str, Any]:
        p = self.product(row)
        return {"asin": p["asin"], "category": p["category"], "query": p["query"], "name": p["name"],
                "product_category": p["product_category"]}

    def _human_goals(self, rng: random.Random, path: Path) -> list[dict[str, Any]]:
        with open(path, encoding="utf-8") as f:
            human = json.load(f)
        rows = sorted(r for r in (self.row_of(a) for a in human) if r is not None)
        goals = []
        for row in rows:
            base = self._goal_base(row)
            for ins in human[base["asin"]]:
                attributes = ins["instruction_attributes"]
                if len(attributes) == 0:
                    continue
                upper, text = price_bound(rng, self.price(row))
                goals.append({**base, "instruction_text": ins["instruction"].strip(".") + text,
                              "attributes": attributes, "price_upper": upper,
                              "goal_options": ins["instruction_options"]})
        return goals

    def _synthetic_goals(self, rng: random.Random) -> list[dict[str, Any]]:
        goals = []
        for row in self.meta["synthetic_rows"]:
            p = self.product(row)
            upper, price_text = price_bound(rng, self.price(row))
            options = dict(p["options"])
            names = sorted(options)
            base = self._goal_base(row)
            for combination in itertools.product(*(options[n] for n in names)):
                goal_options = dict(zip(names, combination))
                option_text = ", and ".join(f"{k}: {v}" for k, v in goal_options.items())
                option_text = " with " + option_text if option_text else ""
                goals.append({**base, "instruction_text": f"{p['instruction_text']}{option_text}{price_text}",
                              "attributes": p["instruction_attributes"], "price_upper": upper,
                              "goal_options": goal_options})
        return goals
