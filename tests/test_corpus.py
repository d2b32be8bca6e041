"""Manifest validation and the choice between bundled and synced copies."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from assistant.errors import ConfigError
from assistant.ingest.corpus import Corpus, load_manifest
from assistant.settings import BUNDLED_CORPUS_DIR, load_settings


def test_bundled_manifest_is_valid_and_files_match_their_sha256():
    pubs = load_manifest(BUNDLED_CORPUS_DIR / "manifest.toml")
    assert len(pubs) >= 10
    assert len({p.id for p in pubs}) == len(pubs)
    bundled = [p for p in pubs if p.file]
    assert [p.id for p in bundled] == ["p_3363066"]
    for pub in bundled:
        data = (BUNDLED_CORPUS_DIR / pub.file).read_bytes()
        assert hashlib.sha256(data).hexdigest() == pub.sha256
    assert all(p.download_url.startswith("https://") for p in pubs if p.download_url)


def write_manifest(root: Path, body: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "manifest.toml").write_text(body, encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '[[publication]]\nid = "a"\ntitle = "A"\n[[publication]]\nid = "a"\ntitle = "B"\n',
            "duplicate publication ids: a",
        ),
        ('[[publication]]\nid = "a b"\ntitle = "A"\n', "publication a b is invalid"),
        ('[[publication]]\nid = "a"\ntitle = "A"\npdf_url = "ftp://x"\n', "http:// or https://"),
        ('[[publication]]\nid = "a"\ntitle = "A"\nunknown = 1\n', "unknown"),
        # red team: a `file` entry could point anywhere on the server
        ('[[publication]]\nid = "a"\ntitle = "A"\nfile = "/etc/passwd"\n', "inside the corpus"),
        ('[[publication]]\nid = "a"\ntitle = "A"\nfile = "../secret.txt"\n', "inside the corpus"),
        ('[[publication]]\nid = "a"\ntitle = "A"\nfile = "docs/../../x"\n', "inside the corpus"),
        ("[[publication]\n", "invalid TOML"),
    ],
)
def test_invalid_manifests_are_clear_config_errors(tmp_path: Path, body: str, message: str):
    write_manifest(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_manifest(tmp_path / "manifest.toml")
    assert message in str(err.value)


def test_missing_manifest_says_how_to_fix(tmp_path: Path):
    with pytest.raises(ConfigError) as err:
        Corpus(load_settings(corpus_dir=tmp_path))
    assert "HAS_ASSISTANT_CORPUS_DIR" in str(err.value)


def test_synced_copy_is_preferred_and_a_bad_one_falls_back_to_bundled(tmp_path: Path):
    root = write_manifest(
        tmp_path / "corpus",
        '[[publication]]\nid = "fictif"\ntitle = "Page fictive"\n'
        'landing_url = "http://127.0.0.1:9/p"\nfile = "documents/fictif.txt"\n',
    )
    (root / "documents").mkdir()
    (root / "documents" / "fictif.txt").write_text(
        "Page fictive\nTexte fictif embarqué.\n", encoding="utf-8"
    )
    corpus = Corpus(load_settings(corpus_dir=root, home=tmp_path / "home"))
    pub = corpus.publications[0]
    assert corpus.status(pub).label == "bundled"
    docs = corpus.load().documents
    assert [d.source.name for d in docs] == ["fictif.txt"]
    assert docs[0].meta.url == "http://127.0.0.1:9/p"

    synced = corpus.downloaded_path(pub)
    synced.parent.mkdir(parents=True)
    synced.write_text("<main><p>Texte fictif téléchargé.</p></main>", encoding="utf-8")
    assert corpus.status(pub).label == "bundled + synced"
    report = corpus.load()
    assert [d.source.name for d in report.documents] == ["fictif.html"]
    assert report.documents[0].meta.title == "Page fictive"

    synced.write_bytes(b"")  # a damaged download: the bundled copy is used, the error named
    report = corpus.load()
    assert [d.source.name for d in report.documents] == ["fictif.txt"]
    assert "empty file" in str(report.errors[0])


def test_extra_paths_are_loaded_after_the_manifest(tmp_path: Path):
    extra = tmp_path / "extra.md"
    extra.write_text("# Note fictive ajoutée\n\nTexte fictif.", encoding="utf-8")
    report = Corpus(load_settings()).load([extra, BUNDLED_CORPUS_DIR / "documents"])
    assert [d.doc_id for d in report.documents] == ["p_3363066", "extra"]
