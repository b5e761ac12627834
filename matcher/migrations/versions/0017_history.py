"""history as history: a referral's milestone, and a slot's intakes

Revision ID: 0017_history
Revises: 0016_external_ids
Create Date: 2026-12-07 02:30:00

* referrals.milestone: the furthest a placement got (started, stayed_30, stayed_90, stayed_180), kept when it ends
  ("stayed 90 days, left in month 5" is status left with milestone stayed_90). Filled for the existing rows from the
  status, and for the placements that ended (left) from the furthest stay their events recorded.
* slot_intakes: the start dates (and ends) of a slot that starts several times, a recurring course.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_history'
down_revision = '0016_external_ids'
branch_labels = None
depends_on = None

MILESTONES = ('started', 'stayed_30', 'stayed_90', 'stayed_180')


def upgrade():
    op.create_table('slot_intakes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_slot_intakes_intake_dates_in_order')),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], name=op.f('fk_slot_intakes_slot_id_slots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slot_intakes')),
    sa.UniqueConstraint('slot_id', 'starts_on', name='uq_slot_intakes_slot_start')
    )
    with op.batch_alter_table('slot_intakes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_slot_intakes_slot_id'), ['slot_id'], unique=False)

    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('milestone', sa.Enum(*MILESTONES, name='milestone', native_enum=False,
                                                           create_constraint=True, length=24), nullable=True))

    # A placement in place: its status is its milestone. One that ended: the furthest stay its events reached.
    values = ", ".join(f"'{m}'" for m in MILESTONES)
    op.execute(f"UPDATE referrals SET milestone = status WHERE status IN ({values})")
    for milestone in MILESTONES:  # in order: a later stay overwrites an earlier one
        op.execute(f"UPDATE referrals SET milestone = '{milestone}' WHERE status = 'left' AND EXISTS ("
                   f"SELECT 1 FROM referral_events e WHERE e.referral_id = referrals.id AND e.to_status = '{milestone}')")
    op.execute("UPDATE referrals SET milestone = 'started' WHERE status = 'left' AND milestone IS NULL "
               "AND started_on IS NOT NULL")


def downgrade():
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_referrals_milestone'), type_='check')
        batch_op.drop_column('milestone')
    with op.batch_alter_table('slot_intakes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_slot_intakes_slot_id'))
    op.drop_table('slot_intakes')
