"""Feedback and audit tables (the columns of the former per-replica SQLite files).

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("answer_id", sa.String(64)),
        sa.Column("useful", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("sources", sa.Text, nullable=False),
        sa.Column("mode", sa.String(32)),
        sa.Column("model", sa.String(200)),
        sa.Column("corpus_version", sa.String(64)),
        sa.Column("refusal_reason", sa.String(32)),
        sa.Column("grounding_score", sa.Float),
    )
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])
    op.create_index("ix_feedback_answer_id", "feedback", ["answer_id"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("answer_id", sa.String(64)),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("refused", sa.Integer, nullable=False),
        sa.Column("refusal_reason", sa.String(32)),
        sa.Column("sources", sa.Text, nullable=False),
        sa.Column("grounding_score", sa.Float),
        sa.Column("mode", sa.String(32)),
        sa.Column("model", sa.String(200)),
        sa.Column("corpus_version", sa.String(64)),
        sa.Column("privacy_detected", sa.String(200)),
        sa.Column("total_ms", sa.Float),
    )
    op.create_index("ix_audit_created_at", "audit", ["created_at"])
    op.create_index("ix_audit_answer_id", "audit", ["answer_id"])


def downgrade() -> None:
    op.drop_table("audit")
    op.drop_table("feedback")
