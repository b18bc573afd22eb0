"""docs/HOSTING.md's scale-out recipe, running: PostgreSQL, two ``streamlit run`` replicas on
loopback ports and nginx (Debian's package) with the cookie-affinity configuration of
``docs/nginx.conf`` in front of them; students in real browser contexts go through nginx.

Which replica served a request is read from nginx's own access log (the test's wrapper
configuration logs ``$upstream_addr`` next to the affinity key), so neither the app nor the
tested ``docs/nginx.conf`` carries anything for the test.

Skipped when nginx or PostgreSQL is missing, unless COLORCLF_REQUIRE_NGINX is set (CI).
PostgreSQL: a fresh database on COLORCLF_TEST_PG_URL's server, else a throwaway cluster.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from colorclf.app.label_page import RATE_LIMIT_MESSAGE
from colorclf.store import RunBoard, VoteStore
from tests.conftest import connection_state, free_port, start_streamlit, stop_streamlit, wait_idle

ROOT = Path(__file__).resolve().parent.parent
DOC_CONF = ROOT / "docs" / "nginx.conf"
HOSTING = ROOT / "docs" / "HOSTING.md"
TIMEOUT_MS = 180_000  # generous: CI machines may be busy
TRAIN_TIMEOUT_MS = 300_000
PASSWORD = "owl-42 behind nginx"
VOTES_EACH = 3
MIN_STUDENTS, MAX_STUDENTS = 4, 12
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin/pg_ctl"


def _missing(reason: str) -> None:
    if os.environ.get("COLORCLF_REQUIRE_NGINX"):
        pytest.fail(f"COLORCLF_REQUIRE_NGINX is set but {reason}")
    pytest.skip(reason)


def nginx_binary() -> str | None:
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


# ---------------------------------------------------------------------------- configuration


def test_hosting_md_shows_the_tested_configuration_verbatim() -> None:
    block = re.search(r"```nginx\n(.*?)```", HOSTING.read_text(), re.S)
    assert block is not None, "docs/HOSTING.md has no nginx block"
    assert block.group(1) == DOC_CONF.read_text()


def site_config(upstream_ports: list[int], listen_port: int) -> str:
    """docs/nginx.conf with its upstream servers and its ``listen`` on loopback ports."""
    text = DOC_CONF.read_text()
    servers = re.search(r"(?:^    server \S+;\n)+", text, re.M)
    assert servers is not None and "    listen 80;\n" in text, "docs/nginx.conf changed shape"
    ours = "".join(f"    server 127.0.0.1:{port};\n" for port in upstream_ports)
    text = text[: servers.start()] + ours + text[servers.end() :]
    return text.replace("    listen 80;\n", f"    listen 127.0.0.1:{listen_port};\n")


def main_config(folder: Path, site: Path) -> str:
    """nginx.conf around the site: in the foreground, every path in ``folder``, and an
    access log that names the replica (``$upstream_addr``) of each request."""
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    return f"""daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 512; }}
http {{
    log_format colorclf '$msec $request_time $colorclf_affinity $status "$upstream_addr" $request';
    access_log {folder / "access.log"} colorclf;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {site};
}}
"""


def test_the_site_config_is_templated_for_loopback_ports() -> None:
    text = site_config([5001, 5002], 6000)
    assert "server 127.0.0.1:5001;\n    server 127.0.0.1:5002;\n}" in text
    assert "listen 127.0.0.1:6000;" in text and "app1" not in text and "listen 80" not in text
    assert "hash $colorclf_affinity consistent;" in text


@dataclass
class LogLine:
    start: float  # when nginx read the request (seconds since the epoch)
    affinity: str
    status: int
    upstream: str  # the replica that answered ("127.0.0.1:port"); the last one tried
    request: str

    @property
    def websocket(self) -> bool:
        return self.status == 101 and "/_stcore/stream" in self.request


def read_access_log(path: Path) -> list[LogLine]:
    lines = []
    for raw in path.read_text().splitlines():
        msec, request_time, affinity, status, rest = raw.split(" ", 4)
        upstream, request = rest[1:].split('" ', 1)
        lines.append(
            LogLine(
                float(msec) - float(request_time),
                affinity,
                int(status),
                upstream.split(", ")[-1],
                request,
            )
        )
    return lines


# ---------------------------------------------------------------------------- services


def _as_postgres(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this module's replicas."""
    given = os.environ.get("COLORCLF_TEST_PG_URL")
    if given:
        name = f"colorclf_scaleout_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(given, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield sa.make_url(given).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        return
    pg_ctls = sorted(Path("/").glob(PG_BIN_GLOB.lstrip("/")))
    if not pg_ctls:
        _missing("PostgreSQL is not installed and COLORCLF_TEST_PG_URL is not set")
    bin_dir = pg_ctls[-1].parent
    folder = Path(tempfile.mkdtemp(prefix="colorclf-scaleout-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    port = free_port()
    data = folder / "data"
    subprocess.run(
        _as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log")]
    subprocess.run(_as_postgres([*start, "-w", "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        stop = [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
        subprocess.run(_as_postgres(stop), capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Replica:
    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.addr}"


@dataclass
class Cluster:
    replicas: list[Replica]
    proxy: str  # nginx's base URL
    access_log: Path
    nginx: subprocess.Popen
    db_url: str

    def replica(self, addr: str) -> Replica:
        return next(r for r in self.replicas if r.addr == addr)

    def stop_nginx(self) -> None:
        if self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)  # graceful: finishes and logs every request
            try:
                self.nginx.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.nginx.terminate()  # fast: the master still stops its workers
                self.nginx.wait()


def _wait_healthy(url: str, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within 60 s")


@pytest.fixture(scope="module")
def cluster(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    nginx = nginx_binary()
    if nginx is None:
        _missing("nginx is not installed (apt-get install nginx)")
    folder = tmp_path_factory.mktemp("scaleout")
    env = {
        "COLORCLF_DB_URL": pg_url,
        "COLORCLF_TEACHER_PASSWORD": PASSWORD,
        "COLORCLF_MAX_TRAININGS": "1",
    }
    replicas: list[Replica] = []
    proxy_proc: subprocess.Popen | None = None
    try:
        for name in ("a", "b"):
            log = folder / f"replica-{name}.log"
            proc, url = start_streamlit(env, log=log)
            replicas.append(Replica(proc, int(url.rsplit(":", 1)[1]), log))
        listen = free_port()
        prefix = folder / "nginx"
        prefix.mkdir()
        site = prefix / "colorclf.conf"
        site.write_text(site_config([r.port for r in replicas], listen))
        conf = prefix / "nginx.conf"
        conf.write_text(main_config(prefix, site))
        proxy_proc = subprocess.Popen(
            [nginx, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=(prefix / "stderr.log").open("wb"),
        )
        proxy = f"http://127.0.0.1:{listen}"
        _wait_healthy(proxy, proxy_proc, "nginx")
        yield Cluster(replicas, proxy, prefix / "access.log", proxy_proc, pg_url)
    finally:
        if proxy_proc is not None and proxy_proc.poll() is None:
            # SIGTERM: the master stops its workers (after a SIGKILL they would live on).
            proxy_proc.terminate()
            try:
                proxy_proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proxy_proc.kill()
                proxy_proc.wait()
        for replica in replicas:
            if replica.proc.poll() is None:
                stop_streamlit(replica.proc)


# ---------------------------------------------------------------------------- students


@dataclass
class Student:
    context: object
    page: object
    name: str
    affinity: str = ""
    replica: str = ""  # "127.0.0.1:port"
    votes: int = 0
    shared: bool = False


def _metric(page: object, label: str) -> object:
    return page.locator('[data-testid="stMetric"]', has_text=label).locator(
        '[data-testid="stMetricValue"]'
    )


def _affinity_cookie(context: object) -> str:
    cookies = {c["name"]: c["value"] for c in context.cookies()}  # type: ignore[attr-defined]
    return cookies.get("colorclf_affinity", "")


def _replica_of(cluster: Cluster, affinity: str) -> str:
    """The replica that served this affinity key's requests so far (from nginx's log)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        served = {
            line.upstream
            for line in read_access_log(cluster.access_log)
            if line.affinity == affinity
        }
        if served:
            assert len(served) == 1, f"one browser's requests went to {served}"
            return served.pop()
        time.sleep(0.05)  # until nginx has written the page's lines
    raise AssertionError(f"nginx logged no request for affinity {affinity}")


def _open_label(page: object, base: str) -> None:
    page.goto(f"{base}/label", timeout=TIMEOUT_MS)
    page.get_by_role("button", name="grey-ish", exact=True).wait_for(timeout=TIMEOUT_MS)
    wait_idle(page, TIMEOUT_MS)


def _set_name(page: object, name: str, shown: str) -> None:
    from playwright.sync_api import expect

    box = page.get_by_role("textbox", name="Your name (optional)")
    box.fill(name)
    box.press("Enter")
    expect(page.get_by_text(f"{shown}: {name}", exact=True)).to_be_visible(timeout=TIMEOUT_MS)
    wait_idle(page, TIMEOUT_MS)


# Counts the page runs that end from now on (``/label`` has no fragments: each click is
# one run), so a test reads the answer to *its* click, not the last one's message. The
# watch follows the page's current app element: after a reconnection to another replica the
# element it watched may be gone, and a watch on it would never see a run end.
COUNT_RUNS_JS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  window.__colorclfRunsEnded = 0;
  if (window.__colorclfRunWatched !== app) {
    if (window.__colorclfRunWatch) window.__colorclfRunWatch.disconnect();
    window.__colorclfRunWatch = new MutationObserver((records) => {
      for (const r of records) if (r.oldValue === 'running') window.__colorclfRunsEnded++;
    });
    window.__colorclfRunWatch.observe(app, {attributes: true, attributeOldValue: true,
      attributeFilter: ['data-test-script-state']});
    window.__colorclfRunWatched = app;
  }
}"""
RUN_ENDED_JS = """() => window.__colorclfRunsEnded > 0 && document.querySelector(
  '[data-testid=stApp]').getAttribute('data-test-script-state') === 'notRunning'"""


def _vote(page: object, label: str, expected: int, metric: str = "Your votes") -> None:
    """Click ``label`` until ``metric`` shows ``expected``. A click too soon after the last
    one gets the rate-limit warning instead: then click again, but only once the page has
    answered this click (a warning still on screen from the last click, read as this one's
    answer, made one click too many: a vote counted twice)."""
    from playwright.sync_api import expect

    counted = _metric(page, metric).filter(has_text=re.compile(rf"^{expected}$"))
    warning = page.get_by_text(RATE_LIMIT_MESSAGE)
    for _ in range(20):
        page.evaluate(COUNT_RUNS_JS)
        page.get_by_role("button", name=label, exact=True).click()
        page.wait_for_function(RUN_ENDED_JS, timeout=TIMEOUT_MS)
        if counted.count():
            return
        if not warning.count():
            # The run that ended was not this click's: a page that had just reconnected to
            # another replica ran once by itself. Wait for this click's answer.
            expect(counted.or_(warning).first).to_be_visible(timeout=TIMEOUT_MS)
            if counted.count():
                return
        shown = _metric(page, metric).inner_text()
        assert warning.count(), f"{metric} shows {shown}"
    raise AssertionError("the vote was refused twenty times")


# Records every connection state the page shows from now on (Streamlit's own attribute).
WATCH_CONNECTION_JS = """() => {
  const app = document.querySelector('[data-testid=stApp]');
  const state = () => app.getAttribute('data-test-connection-state');
  window.__colorclfStates = [state()];
  new MutationObserver(() => window.__colorclfStates.push(state())).observe(
    app, {attributes: true, attributeFilter: ['data-test-connection-state']});
}"""
RECONNECTED_JS = """() => {
  const seen = window.__colorclfStates;
  return seen.some((s) => s !== 'CONNECTED') && seen[seen.length - 1] === 'CONNECTED';
}"""


def _train_and_share(student: Student, base: str) -> None:
    """A new page load (a new websocket, same cookie): train two epochs, share the run."""
    from playwright.sync_api import expect

    page = student.page
    page.goto(f"{base}/?epochs=2&hidden_units=8&seed=3", timeout=TIMEOUT_MS)
    train = page.get_by_role("button", name="Train", exact=True)
    expect(train).to_be_enabled(timeout=TIMEOUT_MS)
    train.click()
    page.get_by_text("Training complete in").first.wait_for(timeout=TRAIN_TIMEOUT_MS)
    wait_idle(page, TIMEOUT_MS)
    page.get_by_role("tab", name="Runs").click()
    _set_name(page, student.name, "Sharing as")
    page.get_by_role("button", name="Share with the class").click()
    page.get_by_text("Run 1 is on the class board").wait_for(timeout=TIMEOUT_MS)
    student.shared = True


def _board_shows(browser: object, base: str, runs: int, votes: int, names: list[str]) -> None:
    """The projector board served by ``base`` counts every run and vote and lists the names."""
    from playwright.sync_api import expect

    context = browser.new_context()  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(f"{base}/class?projector=1", timeout=TIMEOUT_MS)
        expect(_metric(page, "Shared runs")).to_have_text(str(runs), timeout=TIMEOUT_MS)
        expect(_metric(page, "Class votes")).to_have_text(str(votes), timeout=TIMEOUT_MS)
        lines = page.locator('[data-testid="stText"]')
        for name in names:
            expect(lines.filter(has_text=name)).to_have_count(1, timeout=TIMEOUT_MS)
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        context.close()


def _no_traceback(replica: Replica) -> None:
    text = replica.log.read_text(errors="replace")
    assert "Traceback" not in text, f"replica {replica.addr} logged:\n{text[-3000:]}"


@pytest.mark.browser
def test_students_behind_nginx_stick_to_a_replica_and_survive_losing_one(
    browser: object, cluster: Cluster, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    from colorclf.core.labels import LABELS

    students: list[Student] = []
    try:
        # Students arrive until both replicas have some (nginx picks by a random cookie).
        while len(students) < MIN_STUDENTS or len({s.replica for s in students}) < 2:
            assert len(students) < MAX_STUDENTS, "nginx sent every student to one replica"
            context = browser.new_context()  # type: ignore[attr-defined]
            student = Student(context, context.new_page(), f"Zoë <i>{len(students)}</i>")
            students.append(student)
            _open_label(student.page, cluster.proxy)
            student.affinity = _affinity_cookie(context)
            assert student.affinity, "nginx set no affinity cookie"
            student.replica = _replica_of(cluster, student.affinity)
        assert len({s.affinity for s in students}) == len(students)

        for i, student in enumerate(students):
            _set_name(student.page, student.name, "Voting as")
            for n in range(1, VOTES_EACH + 1):
                _vote(student.page, LABELS[(i + n) % len(LABELS)], n)
            student.votes = VOTES_EACH
        total_votes = VOTES_EACH * len(students)
        sharers = [next(s for s in students if s.replica == r.addr) for r in cluster.replicas]
        for student in sharers:
            _train_and_share(student, cluster.proxy)
        names = [s.name for s in sharers]
        for replica in cluster.replicas:
            _board_shows(browser, replica.url, len(sharers), total_votes, names)

        # One replica dies. Its students' pages reconnect through nginx to the other one
        # (Streamlit's page does that by itself) and go on in a new session there.
        victim, survivor = cluster.replicas
        for student in students:
            student.page.evaluate(WATCH_CONNECTION_JS)
        killed_at = time.time()
        victim.proc.kill()
        victim.proc.wait()
        orphans = [s for s in students if s.replica == victim.addr]
        for student in orphans:
            student.page.wait_for_function(RECONNECTED_JS, timeout=TIMEOUT_MS)
            assert connection_state(student.page) == "CONNECTED"
        voters = [s for s in orphans if not s.shared]
        for student in voters:
            # The first click counts: the link told the new session who the student is and
            # which colour was on screen. The next click is a vote as usual.
            page = student.page
            for _ in range(2):
                total_votes += 1
                _vote(page, "blue-ish", total_votes, metric="Class votes")
        for student in (s for s in orphans if s.shared):  # to the board, in the new session
            page = student.page
            page.get_by_role("link", name="Class board").click()
            expect(_metric(page, "Shared runs")).to_have_text(str(len(sharers)), timeout=TIMEOUT_MS)
            expect(_metric(page, "Class votes")).to_have_text(str(total_votes), timeout=TIMEOUT_MS)
        _board_shows(browser, cluster.proxy, len(sharers), total_votes, names)
        for student in students:
            if student.replica == survivor.addr:  # never noticed anything
                states = student.page.evaluate("() => window.__colorclfStates")
                assert set(states) == {"CONNECTED"}, student.name

        store = VoteStore(sa.create_engine(cluster.db_url), min_interval=0, max_per_minute=0)
        try:
            assert store.count() == total_votes
            counts = store.count_by_contributor()
            for student in students:
                if student not in voters:  # (a voter's new session may vote under a new id)
                    assert counts.get(student.name) == VOTES_EACH, student.name
            assert sorted(r.contributor for r in RunBoard(store).runs()) == sorted(names)
        finally:
            store.engine.dispose()
        for student in students:
            assert student.page.locator('[data-testid="stException"]').count() == 0
            assert connection_state(student.page) == "CONNECTED"
    except BaseException:
        for i, student in enumerate(students):
            student.page.screenshot(path=str(tmp_path / f"student-{i}.png"), full_page=True)
        print(f"screenshots in {tmp_path}; nginx log {cluster.access_log}")
        raise
    finally:
        for student in students:
            student.context.close()

    # nginx's log, complete once it has stopped: every request of a browser went to its
    # replica (pages, reruns and websockets alike) until that replica died; after that, to
    # the survivor.
    cluster.stop_nginx()
    log = read_access_log(cluster.access_log)
    for student in students:
        mine = [line for line in log if line.affinity == student.affinity]
        before = [line for line in mine if line.start < killed_at]
        after = [line for line in mine if line.start >= killed_at]
        assert {line.upstream for line in before} == {student.replica}, student.name
        sockets = [line for line in before if line.websocket]
        assert len(sockets) >= (2 if student.shared else 1), student.name
        if student.replica == victim.addr:
            assert after and {line.upstream for line in after} == {survivor.addr}
            assert any(line.websocket for line in after), "no new websocket on the survivor"
        else:
            assert {line.upstream for line in after} <= {survivor.addr}
    _no_traceback(survivor)
