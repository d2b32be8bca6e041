"""`corpus sync` against a real HTTP server on 127.0.0.1 serving fictitious files."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.ingest.corpus import Corpus
from assistant.ingest.sync import STATE_FILE, sync_corpus
from assistant.settings import load_settings

from conftest import make_pdf
from http_fixture import Route, Server, start_server

HTML = (
    b"<html><body><main><h1>Page fictive</h1><p>Document fictif pour les tests.</p>"
    b"</main></body></html>"
)


@pytest.fixture
def server():
    state, httpd = start_server()
    yield state
    httpd.shutdown()
    httpd.server_close()


def pdf_bytes(tmp_path: Path, text: str) -> bytes:
    return make_pdf(tmp_path / f"{abs(hash(text))}.pdf", [[text]]).read_bytes()


def setup_corpus(tmp_path: Path, server: Server, entries: dict[str, str]) -> Corpus:
    """A corpus whose manifest points at the local server: {id: path} (.pdf → pdf_url)."""
    lines = []
    for pub_id, path in entries.items():
        key = "pdf_url" if path.endswith(".pdf") else "landing_url"
        lines.append(
            f'[[publication]]\nid = "{pub_id}"\ntitle = "Fictif {pub_id}"\n'
            f'{key} = "{server.url(path)}"\n'
        )
    root = tmp_path / "corpus"
    root.mkdir(exist_ok=True)
    (root / "manifest.toml").write_text("\n".join(lines), encoding="utf-8")
    settings = load_settings(
        corpus_dir=root,
        home=tmp_path / "home",
        sync_timeout_s=0.5,
        sync_retries=2,
        sync_backoff_s=0.01,
    )
    return Corpus(settings)


def by_id(results):
    return {r.pub_id: r for r in results}


def test_first_sync_fetches_good_files_and_reports_each_failure(tmp_path: Path, server: Server):
    good = pdf_bytes(tmp_path, "Guide fictif, version 1.")
    server.routes.update(
        {
            "/guide.pdf": Route(good),
            "/page": Route(HTML, "text/html; charset=utf-8", etag=False),
            "/slow.pdf": Route(good, delay_s=1.5),
            "/cut.pdf": Route(good, truncate=True),
            "/flaky.pdf": Route(good, fail_first=2),
            "/error-page.pdf": Route(HTML, "text/html"),
        }
    )
    corpus = setup_corpus(
        tmp_path,
        server,
        {
            "guide": "/guide.pdf",
            "page": "/page",
            "absent": "/missing.pdf",
            "lent": "/slow.pdf",
            "coupe": "/cut.pdf",
            "instable": "/flaky.pdf",
            "erreur": "/error-page.pdf",
        },
    )
    results = by_id(sync_corpus(corpus))

    assert results["guide"].status == "new"
    assert results["page"].status == "new"
    assert results["instable"].status == "new" and results["instable"].attempts == 3
    assert results["absent"].status == "failed" and results["absent"].reason == "HTTP 404 Not Found"
    assert results["absent"].attempts == 1  # a 404 is not retried
    assert results["lent"].status == "failed" and "timeout" in results["lent"].reason
    assert results["lent"].attempts == 3
    assert results["coupe"].status == "failed" and "truncated" in results["coupe"].reason
    assert results["erreur"].status == "failed" and "not a PDF" in results["erreur"].reason

    downloads = corpus.settings.downloads_dir
    assert (downloads / "guide.pdf").read_bytes() == good
    assert (downloads / "page.html").read_bytes() == HTML
    for failed in ("absent", "lent", "coupe", "erreur"):
        assert not (downloads / f"{failed}.pdf").exists()
    assert not [p for p in downloads.iterdir() if p.name.startswith(".")]  # no temp files left
    state = json.loads((downloads / STATE_FILE).read_text())
    assert state["guide"]["sha256"] == hashlib.sha256(good).hexdigest()
    assert all(h.get("User-Agent", "").startswith("has-assistant/") for _, h in server.requests)
    assert [d.doc_id for d in corpus.load().documents] == ["guide", "page", "instable"]


def test_unchanged_files_are_not_fetched_again_and_changes_are_detected(
    tmp_path: Path, server: Server
):
    v1, v2 = pdf_bytes(tmp_path, "Guide fictif v1."), pdf_bytes(tmp_path, "Guide fictif v2.")
    server.routes.update({"/guide.pdf": Route(v1), "/page": Route(HTML, "text/html", etag=False)})
    corpus = setup_corpus(tmp_path, server, {"guide": "/guide.pdf", "page": "/page"})
    sync_corpus(corpus)
    target = corpus.settings.downloads_dir / "guide.pdf"
    os.utime(target, (1_000_000, 1_000_000))
    page = corpus.settings.downloads_dir / "page.html"
    os.utime(page, (1_000_000, 1_000_000))

    results = by_id(sync_corpus(corpus))
    assert results["guide"].status == "unchanged" and results["guide"].reason == "304"
    assert results["page"].status == "unchanged"  # no ETag: same sha256, file not rewritten
    assert target.stat().st_mtime == 1_000_000 and page.stat().st_mtime == 1_000_000
    conditional = [h for p, h in server.requests if p == "/guide.pdf"][-1]
    assert conditional.get("If-None-Match")

    server.routes["/guide.pdf"].body = v2
    results = by_id(sync_corpus(corpus))
    assert results["guide"].status == "updated"
    assert results["guide"].sha256 == hashlib.sha256(v2).hexdigest()
    assert target.read_bytes() == v2


@pytest.mark.parametrize(
    "breakage",
    [dict(status=404), dict(truncate=True), dict(delay_s=1.5), dict(body=HTML), dict(status=500)],
    ids=["404", "truncated", "timeout", "html-instead-of-pdf", "500"],
)
def test_a_failed_download_never_replaces_the_cached_copy(
    tmp_path: Path, server: Server, breakage: dict
):
    good = pdf_bytes(tmp_path, "Guide fictif stable.")
    server.routes["/guide.pdf"] = Route(good)
    corpus = setup_corpus(tmp_path, server, {"guide": "/guide.pdf"})
    assert sync_corpus(corpus)[0].status == "new"

    changed = pdf_bytes(tmp_path, "Guide fictif modifié.")  # so that a 304 cannot hide the failure
    server.routes["/guide.pdf"] = Route(**{"body": changed, **breakage})
    result = sync_corpus(corpus)[0]
    assert result.status == "failed", result
    assert (corpus.settings.downloads_dir / "guide.pdf").read_bytes() == good
    assert corpus.load().documents[0].sha256 == hashlib.sha256(good).hexdigest()


def test_cli_sync_prints_a_summary_and_exits_non_zero_on_failure(tmp_path: Path, server: Server):
    server.routes["/guide.pdf"] = Route(pdf_bytes(tmp_path, "Guide fictif."))
    corpus = setup_corpus(tmp_path, server, {"guide": "/guide.pdf", "absent": "/missing.pdf"})
    env = {
        **os.environ,
        "HAS_ASSISTANT_CORPUS_DIR": str(corpus.settings.corpus_dir),
        "HAS_ASSISTANT_HOME": str(corpus.settings.home),
        "HAS_ASSISTANT_SYNC_RETRIES": "0",
    }
    run = subprocess.run(
        [sys.executable, "-m", "assistant", "corpus", "sync"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1, run.stderr
    assert "1 new, 0 updated, 0 unchanged, 1 failed" in run.stdout
    assert "HTTP 404" in run.stdout
    run = subprocess.run(
        [sys.executable, "-m", "assistant", "corpus", "sync", "--only", "guide"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "0 new, 0 updated, 1 unchanged, 0 failed" in run.stdout
    run = subprocess.run(
        [sys.executable, "-m", "assistant", "corpus", "sync", "--only", "nope"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert "unknown publication id(s): nope" in run.stderr
    assert "Traceback" not in run.stderr


def test_hostile_redirects_fail_their_file_only(tmp_path: Path, server: Server):
    """Red team: a redirect to data: or a redirect loop aborted the whole sync with a
    traceback, and redirects to other local ports were followed."""
    neighbour, neighbour_httpd = start_server()  # another service on this machine
    try:
        neighbour.routes["/admin.pdf"] = Route(pdf_bytes(tmp_path, "Service voisin fictif."))
        server.routes["/guide.pdf"] = Route(pdf_bytes(tmp_path, "Guide fictif."))
        server.routes["/boucle.pdf"] = Route(location="/boucle.pdf")
        server.routes["/donnees.pdf"] = Route(location="data:application/pdf;base64,JVBERg==")
        server.routes["/voisin.pdf"] = Route(location=neighbour.url("/admin.pdf"))
        server.routes["/ici.pdf"] = Route(location="/guide.pdf")  # same origin: followed
        corpus = setup_corpus(
            tmp_path,
            server,
            {
                "guide": "/guide.pdf",
                "boucle": "/boucle.pdf",
                "donnees": "/donnees.pdf",
                "voisin": "/voisin.pdf",
                "ici": "/ici.pdf",
            },
        )
        results = by_id(sync_corpus(corpus))
    finally:
        neighbour_httpd.shutdown()
        neighbour_httpd.server_close()
    assert results["guide"].status == "new" and results["ici"].status == "new"
    assert results["boucle"].status == "failed" and "too many redirects" in results["boucle"].reason
    assert results["donnees"].status == "failed" and "not http(s)" in results["donnees"].reason
    assert results["voisin"].status == "failed" and "local address" in results["voisin"].reason
    assert neighbour.routes["/admin.pdf"].hits == 0
