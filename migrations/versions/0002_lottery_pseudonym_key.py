"""lottery.pseudonym_key: the secret behind the per-lottery pseudonyms of the published people file

Revision ID: 0002_lottery_pseudonym_key
Revises: 0001_initial
Create Date: 2026-11-28 02:35:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0002_lottery_pseudonym_key'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: lotteries announced before this revision keep their files (and digests) as published.
    with op.batch_alter_table('lottery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pseudonym_key', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('lottery', schema=None) as batch_op:
        batch_op.drop_column('pseudonym_key')
