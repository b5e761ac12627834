"""the bureau's own references (本单位编号) on candidates, bases and slots, unique per county

Revision ID: 0016_external_ids
Revises: 0011_intake_transfer_requests
Create Date: 2026-12-07 02:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016_external_ids'
down_revision = '0011_intake_transfer_requests'
branch_labels = None
depends_on = None

TABLES = ('candidates', 'companies', 'slots')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('external_id', sa.String(length=64), nullable=True))
            batch_op.add_column(sa.Column('external_scope', sa.String(length=12), nullable=True))
            batch_op.create_unique_constraint(f'uq_{table}_external_id', ['external_scope', 'external_id'])


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'uq_{table}_external_id', type_='unique')
            batch_op.drop_column('external_scope')
            batch_op.drop_column('external_id')
