"""a notification for administrators: an office asks for the transfer of a file kept elsewhere

Revision ID: 0011_intake_transfer_requests
Revises: 0011_interviews
Create Date: 2026-12-06 23:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0011_intake_transfer_requests'
down_revision = '0011_interviews'
branch_labels = None
depends_on = None

KINDS = ['new_referral', 'answer_due', 'check_due', 'check_overdue', 'certification_expiring',
         'agreement_expiring', 'base_flagged', 'pre_release', 'fair_invitation', 'certification_refused',
         'export_requested', 'export_approved', 'export_refused', 'export_expired', 'interview_proposed',
         'interview_confirmed', 'interview_other_time', 'interview_cancelled', 'interview_reminder']
CHECK = 'ck_notifications_notificationkind'


def _replace_check(kinds):
    values = ", ".join(f"'{kind}'" for kind in kinds)
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f(CHECK), type_='check')
        batch_op.create_check_constraint(op.f(CHECK), f"kind IN ({values})")


def upgrade():
    _replace_check(KINDS + ['transfer_request'])


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind = 'transfer_request'")
    _replace_check(KINDS)
