"""referral notes by audience: the end reason as a code, shared and internal notes apart

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 19:00:00

A referral's free text had no audience: the office's note, a withdrawal's reason and a visit's note all reached
the base. Now an ending gives a code (what a base learns), and free text is either shared with the base or the
office's internal note. Existing text stays where no base reads it: the referral's note and every event's reason
become internal notes, except the words a base wrote itself (events moved by an employer), which stay shared;
ended referrals get the code `other`.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

END_REASONS = ('not_suitable', 'position_filled', 'no_show', 'candidate_declined', 'other_job', 'health',
               'moved_away', 'family', 'dismissed', 'contract_ended', 'personal', 'other')
ENDED = "('declined', 'withdrawn', 'left')"


def _end_reason(name: str) -> sa.Enum:
    return sa.Enum(*END_REASONS, name=name, native_enum=False, create_constraint=True, length=24)


def upgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_code', _end_reason('end_code'), nullable=True))
        batch_op.add_column(sa.Column('shared_note', sa.String(length=500), nullable=True))
        batch_op.alter_column('note', new_column_name='internal_note', existing_type=sa.String(length=500),
                              existing_nullable=True)
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_code', _end_reason('reason_code'), nullable=True))
        batch_op.add_column(sa.Column('shared_note', sa.String(length=500), nullable=True))
        batch_op.alter_column('reason', new_column_name='internal_note', existing_type=sa.String(length=500),
                              existing_nullable=True)

    op.execute(f"UPDATE referrals SET end_code = 'other' WHERE status IN {ENDED}")
    op.execute(f"UPDATE referral_events SET reason_code = 'other' WHERE to_status IN {ENDED}")
    # A base's own words stay shared with it; everything else written so far is the office's.
    op.execute("UPDATE referral_events SET shared_note = internal_note, internal_note = NULL "
               "WHERE actor_id IN (SELECT id FROM accounts WHERE role = 'employer')")

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_column('end_reason')


def downgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_reason', sa.String(length=500), nullable=True))
    op.execute("UPDATE referral_events SET internal_note = COALESCE(internal_note, shared_note)")
    with op.batch_alter_table('referral_events', schema=None) as batch_op:
        batch_op.alter_column('internal_note', new_column_name='reason', existing_type=sa.String(length=500),
                              existing_nullable=True)
        batch_op.drop_column('shared_note')
        batch_op.drop_constraint('reason_code', type_='check')
        batch_op.drop_column('reason_code')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.alter_column('internal_note', new_column_name='note', existing_type=sa.String(length=500),
                              existing_nullable=True)
        batch_op.drop_column('shared_note')
        batch_op.drop_constraint('end_code', type_='check')
        batch_op.drop_column('end_code')
