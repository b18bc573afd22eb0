"""The vote store on real databases: SQLite always, PostgreSQL when COLORCLF_TEST_PG_URL is set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from colorclf import store as store_module
from colorclf.core.errors import ColorclfError, DataError
from colorclf.core.labels import LABELS
from colorclf.store import VoteStore, database_url, get_store, load_votes_dataset
from colorclf.store import config as store_config

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("COLORCLF_TEST_PG_URL")
HOSTILE_NAMES = [
    "'); DROP TABLE votes;--",
    "<script>alert(1)</script>",
    'Robert"); DELETE FROM votes; --',
    "<img src=x onerror=alert(1)>",
    "%s %(uid)s ? :uid $1",
    "**bold** [link](javascript:alert(1))",
    "Zoë 名前 🎨",
]

MakeStore = Callable[..., VoteStore]


class FakeClock:
    """Naive-UTC time that moves only when told."""

    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, 9, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _sqlite_engine(tmp_path: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{tmp_path / 'db' / 'votes.sqlite'}")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[[], sa.Engine]]:
    """Engines on one fresh database: a temp SQLite file, or a fresh PostgreSQL schema."""
    engines: list[sa.Engine] = []
    if request.param == "sqlite":

        def make() -> sa.Engine:
            engines.append(_sqlite_engine(tmp_path))
            return engines[-1]

        yield make
        for engine in engines:
            engine.dispose()
        return

    if not PG_URL:
        pytest.skip("COLORCLF_TEST_PG_URL is not set (see .ci/run)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))

    def make_pg() -> sa.Engine:
        engines.append(
            sa.create_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
        )
        return engines[-1]

    try:
        yield make_pg
    finally:
        for engine in engines:
            engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def make_store(engine_factory: Callable[[], sa.Engine]) -> MakeStore:
    """VoteStores on one engine (another engine with ``own_engine=True``)."""
    shared = engine_factory()

    def make(*, own_engine: bool = False, **kwargs: object) -> VoteStore:
        return VoteStore(engine_factory() if own_engine else shared, **kwargs)  # type: ignore[arg-type]

    return make


@pytest.fixture
def store(make_store: MakeStore) -> VoteStore:
    """A store without a rate limit."""
    return make_store(min_interval=0, max_per_minute=0)


# ---------------------------------------------------------------------------- basics


def test_schema_is_created_on_first_use(make_store: MakeStore) -> None:
    fresh = make_store()
    assert not sa.inspect(fresh.engine).has_table("votes")
    assert fresh.count() == 0
    columns = {c["name"] for c in sa.inspect(fresh.engine).get_columns("votes")}
    assert columns == {"id", "r", "g", "b", "label", "contributor", "created_at"}


def test_votes_are_stored_and_read_back(store: VoteStore) -> None:
    assert store.add_vote(255, 0, 0, "red-ish", "ada")
    assert store.add_vote(0, 0, 255, "blue-ish", "ada")
    assert store.add_vote(np.uint8(128), 128, 128, "grey-ish", "  bob  ")
    assert store.count() == 3
    assert store.count("ada") == 2
    assert store.count("bob") == 1
    assert store.count_by_contributor() == {"ada": 2, "bob": 1}
    frame = store.all_votes()
    assert list(frame.columns) == ["r", "g", "b", "label", "uid"]
    assert frame.values.tolist() == [
        [255, 0, 0, "red-ish", "ada"],
        [0, 0, 255, "blue-ish", "ada"],
        [128, 128, 128, "grey-ish", "bob"],
    ]
    dataset = store.as_dataset()
    assert dataset.source == "votes"
    assert dataset.rgb.tolist() == [[255, 0, 0], [0, 0, 255], [128, 128, 128]]
    assert dataset.label_names == ["red-ish", "blue-ish", "grey-ish"]
    assert dataset.contributor.tolist() == ["ada", "ada", "bob"]


def test_empty_store_reads_as_empty(store: VoteStore) -> None:
    assert store.count() == 0
    assert store.count_by_contributor() == {}
    assert len(store.all_votes()) == 0
    assert len(store.as_dataset()) == 0
    assert json.loads(store.export_json()) == {"entries": []}


@pytest.mark.parametrize("label", ["teal-ish", "Red-ish", "red", "", "red-ish ", None, 3])
def test_labels_outside_the_nine_are_rejected(store: VoteStore, label: object) -> None:
    with pytest.raises(ColorclfError, match="unknown label"):
        store.add_vote(1, 2, 3, label, "ada")  # type: ignore[arg-type]
    assert store.count() == 0


@pytest.mark.parametrize(
    ("rgb", "message"),
    [
        ((256, 0, 0), "r must be in 0..255"),
        ((0, -1, 0), "g must be in 0..255"),
        ((0, 0, 1.5), "b must be an integer"),
        ((True, 0, 0), "r must be an integer"),
        ((0, "7", 0), "g must be an integer"),
    ],
)
def test_channels_outside_0_255_are_rejected(
    store: VoteStore, rgb: tuple[object, object, object], message: str
) -> None:
    with pytest.raises(ColorclfError, match=message):
        store.add_vote(*rgb, "red-ish", "ada")  # type: ignore[arg-type]
    assert store.count() == 0


@pytest.mark.parametrize("name", ["", "   ", "x" * 41, None])
def test_bad_contributor_is_rejected(store: VoteStore, name: object) -> None:
    with pytest.raises(ColorclfError, match="contributor"):
        store.add_vote(1, 2, 3, "red-ish", name)  # type: ignore[arg-type]
    assert store.count() == 0


@pytest.mark.parametrize(
    ("values", "what"),
    [
        ({"r": 1, "g": 2, "b": 3, "label": "teal-ish"}, "label"),
        ({"r": 1, "g": 2, "b": 3, "label": "red"}, "label"),
        ({"r": 300, "g": 2, "b": 3, "label": "red-ish"}, "r"),
        ({"r": 1, "g": -5, "b": 3, "label": "red-ish"}, "g"),
        ({"r": 1, "g": 2, "b": 256, "label": "red-ish"}, "b"),
    ],
)
def test_database_check_constraints_reject_raw_inserts(
    store: VoteStore, values: dict[str, object], what: str
) -> None:
    assert store.count() == 0  # creates the schema
    raw = sa.text(
        "INSERT INTO votes (r, g, b, label, contributor, created_at) "
        "VALUES (:r, :g, :b, :label, 'raw', :t)"
    )
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
        conn.execute(raw, {**values, "t": datetime(2024, 1, 1)})
    with store.engine.begin() as conn:  # the same statement with good values works
        conn.execute(raw, {"r": 1, "g": 2, "b": 3, "label": "red-ish", "t": datetime(2024, 1, 1)})
    assert store.count() == 1


def test_hostile_names_are_stored_and_read_back_verbatim(store: VoteStore) -> None:
    for i, name in enumerate(HOSTILE_NAMES):
        assert store.add_vote(i, i, i, LABELS[i % 9], name)
    assert sa.inspect(store.engine).has_table("votes")
    assert store.count() == len(HOSTILE_NAMES)
    assert store.all_votes()["uid"].tolist() == HOSTILE_NAMES
    assert sorted(store.count_by_contributor()) == sorted(HOSTILE_NAMES)
    for name in HOSTILE_NAMES:
        assert store.count(name) == 1
    exported = [e["uid"] for e in json.loads(store.export_json())["entries"]]
    assert exported == HOSTILE_NAMES
    assert store.remove_contributor("'); DROP TABLE votes;--") == 1
    assert store.count() == len(HOSTILE_NAMES) - 1


def test_control_characters_in_names_become_spaces(store: VoteStore) -> None:
    assert store.add_vote(1, 2, 3, "red-ish", "a\x00b\nc\t")
    assert store.all_votes()["uid"].tolist() == ["a b c"]


def _storable(name: str) -> bool:
    try:
        store_module.clean_contributor(name)
    except ColorclfError:
        return False
    return True


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=st.text(min_size=1, max_size=40).filter(lambda s: _storable(s)))
def test_any_printable_name_round_trips(store: VoteStore, name: str) -> None:
    expected = store_module.clean_contributor(name)
    store.reset()
    assert store.add_vote(10, 20, 30, "pink-ish", name)
    assert store.all_votes()["uid"].tolist() == [expected]
    assert store.count_by_contributor() == {expected: 1}


# ---------------------------------------------------------------------------- concurrency


def _hammer(
    store: VoteStore, threads: int, votes_each: int, contributor: Callable[[int], str]
) -> tuple[int, list[BaseException]]:
    """``threads`` threads, released together, each adding ``votes_each`` votes."""
    barrier = threading.Barrier(threads)
    stored = [0] * threads
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            barrier.wait()
            for i in range(votes_each):
                n = t * votes_each + i
                if store.add_vote(n % 256, (n // 256) % 256, t, LABELS[n % 9], contributor(t)):
                    stored[t] += 1
        except BaseException as err:  # reported below, with the thread's error
            errors.append(err)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(stored), errors


@pytest.mark.parametrize(
    "limits",
    [{"min_interval": 0, "max_per_minute": 0}, {"min_interval": 0, "max_per_minute": 100_000}],
    ids=["limit-off", "limit-generous"],
)
def test_30_threads_of_100_votes_store_exactly_3000_rows(
    make_store: MakeStore, limits: dict[str, float]
) -> None:
    store = make_store(**limits)
    stored, errors = _hammer(store, threads=30, votes_each=100, contributor=lambda t: f"kid-{t}")
    assert errors == []
    assert stored == 3000
    assert store.count() == 3000
    assert store.count_by_contributor() == {f"kid-{t}": 100 for t in range(30)}
    assert len(store.as_dataset()) == 3000


def test_concurrent_burst_of_one_contributor_is_limited_across_engines(
    make_store: MakeStore,
) -> None:
    """Two engines stand for two processes (replicas): the database decides, not a lock."""
    clock = FakeClock()
    a = make_store(min_interval=0, max_per_minute=5, clock=clock)
    b = make_store(own_engine=True, min_interval=0, max_per_minute=5, clock=clock)
    if b._sqlite_lock is not None:  # a real second process would not share this lock
        b._sqlite_lock = threading.Lock()
    results: list[bool] = []
    barrier = threading.Barrier(20)

    def vote(s: VoteStore) -> None:
        barrier.wait()
        results.append(s.add_vote(1, 2, 3, "red-ish", "masher"))

    workers = [threading.Thread(target=vote, args=(a if i % 2 else b,)) for i in range(20)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(results) == [False] * 15 + [True] * 5
    assert a.count("masher") == 5


# ---------------------------------------------------------------------------- rate limit


def test_a_burst_from_one_contributor_is_limited(make_store: MakeStore) -> None:
    clock = FakeClock()
    store = make_store(min_interval=0.15, max_per_minute=120, clock=clock)
    assert [store.add_vote(9, 9, 9, "grey-ish", "masher") for _ in range(10)] == [True] + [
        False
    ] * 9
    clock.advance(0.1)
    assert not store.add_vote(9, 9, 9, "grey-ish", "masher")
    assert store.add_vote(9, 9, 9, "grey-ish", "calm")  # others are not affected
    clock.advance(0.06)  # 0.16 s after the stored vote
    assert store.add_vote(9, 9, 9, "grey-ish", "masher")
    assert store.count("masher") == 2


def test_at_most_max_per_minute_votes(make_store: MakeStore) -> None:
    clock = FakeClock()
    store = make_store(min_interval=0.15, max_per_minute=120, clock=clock)
    results = []
    for _ in range(130):  # one vote every 0.2 s: fast, but never too soon after the last
        results.append(store.add_vote(1, 1, 1, "red-ish", "fast"))
        clock.advance(0.2)
    assert results == [True] * 120 + [False] * 10
    clock.now = FakeClock().now + timedelta(seconds=60.05)  # the first vote left the minute
    assert store.add_vote(1, 1, 1, "red-ish", "fast")
    assert not store.add_vote(1, 1, 1, "red-ish", "fast")
    assert store.count("fast") == 121


def test_default_limits_stop_a_real_burst(make_store: MakeStore) -> None:
    store = make_store()  # 0.15 s, 120 per minute, real clock
    results = [store.add_vote(5, 5, 5, "blue-ish", "mash") for _ in range(20)]
    assert results[0] is True
    assert results.count(False) >= 10
    assert store.count("mash") == results.count(True)


# ---------------------------------------------------------------------------- teacher tools


def test_remove_contributor_and_reset_return_counts(store: VoteStore) -> None:
    for i in range(7):
        store.add_vote(i, 0, 0, "red-ish", "spammer")
    for i in range(3):
        store.add_vote(0, i, 0, "green-ish", "honest")
    assert store.remove_contributor("nobody") == 0
    assert store.remove_contributor("spammer") == 7
    assert store.count_by_contributor() == {"honest": 3}
    assert store.reset() == 3
    assert store.count() == 0
    assert store.reset() == 0
    assert store.add_vote(1, 2, 3, "red-ish", "honest")  # still usable after a reset


def test_undo_deletes_exactly_ones_own_vote_by_id(store: VoteStore) -> None:
    hostile = HOSTILE_NAMES[0]
    first = store.cast_vote(1, 2, 3, "red-ish", hostile)
    second = store.cast_vote(4, 5, 6, "blue-ish", hostile)
    other = store.cast_vote(7, 8, 9, "grey-ish", "bob")
    assert first is not None and second is not None and other is not None
    assert len({first, second, other}) == 3
    assert not store.undo_vote(other, hostile)  # someone else's vote stays
    assert store.undo_vote(second, f"  {hostile} ")  # the name as stored (cleaned)
    assert not store.undo_vote(second, hostile)  # once only
    assert store.all_votes()[["r", "label", "uid"]].values.tolist() == [
        [1, "red-ish", hostile],
        [7, "grey-ish", "bob"],
    ]
    assert store.count() == 2


def test_cast_vote_over_the_limit_returns_no_id(make_store: MakeStore) -> None:
    clock = FakeClock()
    store = make_store(min_interval=1.0, max_per_minute=0, clock=clock)
    assert store.cast_vote(1, 1, 1, "red-ish", "fast") is not None
    assert store.cast_vote(1, 1, 1, "red-ish", "fast") is None
    assert store.count("fast") == 1


# ---------------------------------------------------------------------------- export


def test_export_json_round_trips_into_the_same_dataset(store: VoteStore) -> None:
    from colorclf.data.parse import parse_bytes

    rng = np.random.default_rng(7)
    names = [*HOSTILE_NAMES, "anon-0a1b2c3d"]
    for i in range(60):
        r, g, b = (int(v) for v in rng.integers(0, 256, 3))
        assert store.add_vote(r, g, b, LABELS[i % 9], names[i % len(names)])
    raw = store.export_json()
    document = json.loads(raw)
    assert list(document) == ["entries"]
    assert len(document["entries"]) == 60
    assert all(set(e) == {"r", "g", "b", "label", "uid"} for e in document["entries"])
    loaded = parse_bytes(raw, "colorData.json")
    original = store.as_dataset()
    assert loaded.skipped == {}
    np.testing.assert_array_equal(loaded.rgb, original.rgb)
    np.testing.assert_array_equal(loaded.label, original.label)
    assert loaded.contributor.tolist() == original.contributor.tolist()


# ---------------------------------------------------------------------------- configuration


def test_sqlite_uses_wal_and_a_busy_timeout_and_creates_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "votes.sqlite"
    store = VoteStore(sa.create_engine(f"sqlite:///{path}"))
    assert store.count() == 0
    assert path.exists()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    store.engine.dispose()


def test_database_url_prefers_env_then_secrets_then_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets.toml"
    monkeypatch.setattr(store_config, "_secrets_files", lambda: [tmp_path / "none.toml", secrets])
    monkeypatch.delenv("COLORCLF_DB_URL", raising=False)
    assert database_url() == f"sqlite:///{ROOT / 'data' / 'votes.sqlite'}"
    secrets.write_text("this is [not toml")
    assert database_url().startswith("sqlite:///")
    secrets.write_text((ROOT / ".streamlit" / "secrets.toml.example").read_text())
    assert database_url() == f"sqlite:///{ROOT / 'data' / 'votes.sqlite'}"  # url is commented
    secrets.write_text(
        'teacher_password = "x"\n[connections.sql]\nurl = "postgresql+psycopg://db/x"\n'
    )
    assert database_url() == "postgresql+psycopg://db/x"
    secrets.write_text(
        '[connections.sql]\ndialect = "postgresql"\ndriver = "psycopg"\nhost = "db.example"\n'
        'port = 5433\nusername = "teach"\npassword = "p@ss"\ndatabase = "class"\n'
    )
    assert database_url() == "postgresql+psycopg://teach:p%40ss@db.example:5433/class"
    monkeypatch.setenv("COLORCLF_DB_URL", "sqlite:////elsewhere/v.sqlite")
    assert database_url() == "sqlite:////elsewhere/v.sqlite"


def test_load_votes_dataset_honours_the_env_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'class.sqlite'}"
    monkeypatch.setenv("COLORCLF_DB_URL", url)
    with pytest.raises(DataError, match=r"no class votes stored yet in SQLite .*class\.sqlite"):
        load_votes_dataset()
    assert get_store() is get_store(url)
    get_store().add_vote(250, 10, 10, "red-ish", "ada")
    get_store().add_vote(10, 250, 10, "green-ish", "bob")
    dataset = load_votes_dataset()
    assert dataset.source == "votes"
    assert dataset.label_names == ["red-ish", "green-ish"]

    from colorclf.data.sources import load_source

    assert load_source("votes").contributor.tolist() == ["ada", "bob"]


def test_a_bad_database_url_is_a_data_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLORCLF_DB_URL", "nosuchdialect://x/y")
    with pytest.raises(DataError, match="vote database URL"):
        load_votes_dataset()


def test_store_for_engine_is_cached_per_engine(tmp_path: Path) -> None:
    engine = _sqlite_engine(tmp_path)
    assert store_module.store_for_engine(engine) is store_module.store_for_engine(engine)
    other = _sqlite_engine(tmp_path)
    assert store_module.store_for_engine(other) is not store_module.store_for_engine(engine)


def test_store_module_does_not_import_streamlit() -> None:
    code = "import sys, colorclf.store; print('streamlit' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------- names

INVISIBLE = st.sampled_from(
    ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u202d", "\u2066", "\u2069",
     "\u200e", "\u200f", "\u00ad", "\U000e0041"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(alphabet=st.characters(categories=["L", "N", "P", "S", "Zs"]), min_size=1,
                 max_size=20).filter(lambda s: _storable(s)),
    inserts=st.lists(st.tuples(st.integers(0, 20), INVISIBLE), min_size=1, max_size=4),
)  # fmt: skip
def test_invisible_characters_do_not_make_a_new_person(
    name: str, inserts: list[tuple[int, str]]
) -> None:
    spoofed = name
    for at, ch in inserts:
        spoofed = spoofed[:at] + ch + spoofed[at:]
    assert store_module.clean_contributor(spoofed) == store_module.clean_contributor(name)
    cleaned = store_module.clean_contributor(spoofed)
    assert not any(unicodedata.category(ch)[0] == "C" for ch in cleaned)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("ｃｌａｓｓ", "class"), ("ﬁsh", "fish"), ("a\u202egnp.exe", "agnp.exe"),
     ("  two   spaces ", "two spaces"), ("c\u200b", "c"), ("Ⅻ", "XII")],
)  # fmt: skip
def test_names_are_normalised(store: VoteStore, typed: str, stored: str) -> None:
    assert store.add_vote(1, 2, 3, "red-ish", typed)
    assert store.count_by_contributor() == {stored: 1}


def test_the_rate_limit_sees_through_zero_width_spaces(make_store: MakeStore) -> None:
    clock = FakeClock()
    store = make_store(min_interval=0.15, max_per_minute=120, clock=clock)
    assert store.add_vote(9, 9, 9, "grey-ish", "c")
    assert not store.add_vote(9, 9, 9, "grey-ish", "c\u200b")
    assert not store.add_vote(9, 9, 9, "grey-ish", "\u200dc\u2060")
    assert not store.add_vote(9, 9, 9, "grey-ish", "ｃ")
    assert store.count_by_contributor() == {"c": 1}


# ---------------------------------------------------------------------------- faults

REPO = Path(__file__).resolve().parent.parent


def _as_unprivileged(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run Python ``code`` as a user that file permissions apply to (root ignores them)."""
    command = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=180, cwd="/",
        env={**os.environ, "PYTHONPATH": str(REPO), **env}, check=False,
    )  # fmt: skip


@pytest.fixture
def read_only_votes() -> Iterator[str]:
    """A votes file with 30 votes (made by the store: WAL mode), then the file and its folder
    made read-only, in a folder an unprivileged user can reach."""
    import shutil
    import tempfile

    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    root = Path(tempfile.mkdtemp(prefix="colorclf-ro-"))
    root.chmod(0o755)
    folder = root / "data"
    folder.mkdir()
    url = f"sqlite:///{folder / 'votes.sqlite'}"
    writer = VoteStore(sa.create_engine(url), min_interval=0, max_per_minute=0)
    for i in range(30):
        writer.add_vote(i * 8, 255 - i * 8, 40, LABELS[i % 9], f"p{i % 3}")
    writer.engine.dispose()
    assert not (folder / "votes.sqlite-wal").exists()
    (folder / "votes.sqlite").chmod(0o444)
    folder.chmod(0o555)
    yield url
    folder.chmod(0o755)
    shutil.rmtree(root)


READ_AND_WRITE = """
from colorclf.store import get_store, load_votes_dataset, database_problem
ds = load_votes_dataset()
print(len(ds), ds.contributor_count())
try:
    get_store().add_vote(1, 2, 3, "red-ish", "late")
except Exception as err:
    print(database_problem(err, get_store().engine.url.render_as_string()))
"""


def test_a_read_only_votes_file_is_read_and_says_why_it_cannot_be_written(
    read_only_votes: str,
) -> None:
    result = _as_unprivileged(READ_AND_WRITE, {"COLORCLF_DB_URL": read_only_votes})
    assert result.returncode == 0, result.stderr
    counts, problem = result.stdout.strip().splitlines()
    assert counts == "30 3"
    path = read_only_votes.removeprefix("sqlite:///")
    assert problem == (
        f"the votes file {path} is read-only: votes cannot be stored; give the server write "
        "access to the file and its folder"
    )


def test_a_read_only_votes_file_can_be_trained_on(read_only_votes: str) -> None:
    code = "from colorclf.cli import main; raise SystemExit(main(['train', '--data', 'votes', "
    code += "'--epochs', '1', '--json']))"
    result = _as_unprivileged(code, {"COLORCLF_DB_URL": read_only_votes})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["data"] == {"source": "votes", "rows": 30, "train_rows": 21, "val_rows": 9}
    assert report["epochs"] == 1


@pytest.mark.parametrize(
    "content",
    [
        b"this is not a database at all" * 100,
        b"SQLite format 3\x00" + b"\xff" * 2000,
    ],
)
def test_a_damaged_votes_file_says_what_to_do(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "votes.sqlite"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        load_votes_dataset(f"sqlite:///{path}")
    assert str(info.value) == (
        f"cannot read class votes: the votes file {path} is damaged or not a SQLite database: "
        "move it away to start a new collection, or point COLORCLF_DB_URL at the right one"
    )


def test_database_problems_never_show_the_driver_text_or_sql() -> None:
    err = sa.exc.OperationalError("SELECT * FROM votes WHERE contributor = ?", ("eve",),
                                  Exception("connection refused on 10.0.0.1"))  # fmt: skip
    text = store_module.database_problem(err, "postgresql://u:secret@db.example/votes")
    assert text == (
        "the votes database postgresql://u:***@db.example/votes cannot be reached: check that "
        "the database server runs and its URL is right"
    )
    assert store_module.database_problem(RuntimeError("???")) == (
        "the votes database failed (RuntimeError): ask whoever runs the server to check it"
    )
