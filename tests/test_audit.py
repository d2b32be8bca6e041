"""Audit trail: every answer recorded, redacted; retention; CSV export from the CLI."""

from __future__ import annotations

import csv

from assistant.app import Assistant
from assistant.settings import load_settings

from conftest import has_assistant


def test_every_answer_is_recorded_redacted(bundled, tmp_path):
    assistant = Assistant(load_settings(home=bundled.settings.home), bundled.embedder)
    before = len(assistant.audit.rows())
    assistant.ask("Quels sont les trois axes du cadre de confiance pour M. Durand ?")
    assistant.ask("Quelle dose de paracétamol pour mon patient ?")
    rows = assistant.audit.rows()[before:]
    assert len(rows) == 2
    assert "Durand" not in rows[0]["question"] and rows[0]["privacy_detected"] == "nom"
    assert rows[0]["refused"] == 0 and "p_3363066" in rows[0]["sources"]
    assert rows[0]["grounding_score"] == 1.0 and rows[0]["corpus_version"]
    assert rows[1]["refused"] == 1 and rows[1]["refusal_reason"] == "out_of_scope"

    target = tmp_path / "audit.csv"
    run = has_assistant(
        "audit", "export", str(target), env={"HAS_ASSISTANT_HOME": str(bundled.settings.home)}
    )
    assert run.returncode == 0, run.stderr
    exported = list(csv.DictReader(target.open(encoding="utf-8-sig")))
    assert exported[-1]["refusal_reason"] == "out_of_scope"


def test_audit_can_be_switched_off(bundled):
    off = Assistant(load_settings(home=bundled.settings.home, audit=False), bundled.embedder)
    assert off.audit is None
    assert off.ask("Quels sont les trois axes du cadre de confiance ?").citations
