"""bases that answer: a base's size, its pause for unanswered referrals, the size bands and the answer rules

Revision ID: 0018_base_answers
Revises: 0017_history
Create Date: 2026-12-07 05:20:00

* companies.employees: how many people the base employs (its size band caps its referrals a month);
  companies.referrals_paused_on: paused for new referrals since that day; companies.pause_lifted_on: the day an
  administrator last lifted a pause (referrals sent before it no longer count towards one).
* base_size_bands: the administrator's bands (from a number of employees up) and their monthly referrals.
* base_answer_rules: one row of settings (unanswered referrals before a pause, the response-rate target).
* notifications.kind: 'base_paused'; the CHECK constraint is replaced (on SQLite by a batch rebuild).
"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0018_base_answers'
down_revision = '0017_history'
branch_labels = None
depends_on = None

KINDS = ['new_referral', 'answer_due', 'check_due', 'check_overdue', 'certification_expiring',
         'agreement_expiring', 'base_flagged', 'pre_release', 'fair_invitation', 'certification_refused',
         'export_requested', 'export_approved', 'export_refused', 'export_expired', 'interview_proposed',
         'interview_confirmed', 'interview_other_time', 'interview_cancelled', 'interview_reminder',
         'transfer_request']
CHECK = 'ck_notifications_notificationkind'


def _replace_check(kinds):
    values = ", ".join(f"'{kind}'" for kind in kinds)
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_='check')
        batch_op.create_check_constraint(op.f(CHECK), f"kind IN ({values})")


def upgrade():
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('employees', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('referrals_paused_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('pause_lifted_on', sa.Date(), nullable=True))
    op.create_table('base_size_bands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('min_employees', sa.Integer(), nullable=False),
    sa.Column('monthly_referrals', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('min_employees >= 1', name=op.f('ck_base_size_bands_positive_min')),
    sa.CheckConstraint('monthly_referrals >= 0', name=op.f('ck_base_size_bands_nonnegative_cap')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_base_size_bands')),
    sa.UniqueConstraint('min_employees', name=op.f('uq_base_size_bands_min_employees'))
    )
    op.create_table('base_answer_rules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pause_after', sa.Integer(), nullable=False),
    sa.Column('target_share', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('pause_after >= 1', name=op.f('ck_base_answer_rules_positive_pause_after')),
    sa.CheckConstraint('target_share > 0 AND target_share <= 1',
                       name=op.f('ck_base_answer_rules_target_share_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_base_answer_rules'))
    )
    _replace_check(KINDS + ['base_paused'])


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind = 'base_paused'")
    _replace_check(KINDS)
    op.drop_table('base_answer_rules')
    op.drop_table('base_size_bands')
    columns = ('pause_lifted_on', 'referrals_paused_on', 'employees')
    if op.get_bind().dialect.name == 'sqlite':
        # SQLite (3.35 and later) drops a plain column in place; a batch would rebuild the table, and dropping the
        # old one fails while other tables' foreign keys point at it (the pragma cannot change inside a migration).
        for column in columns:
            op.execute(f'ALTER TABLE companies DROP COLUMN {column}')
        return
    with op.batch_alter_table('companies', schema=None) as batch_op:
        for column in columns:
            batch_op.drop_column(column)
