"""notification tasks: a notice names the task it announces and is done when the task is

Revision ID: 0011_notification_tasks
Revises: 0011_base_refused
Create Date: 2026-12-06 23:20:00

`task_key` names the task a notice announces (kind of record, id, and the step when a record has several) and
`done_at` says when it was done; an informing notice is done once read. Four kinds tell administrators and
requesters about identified exports. Existing notices get the task key their kind implies, and an informing
notice already read is done.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_notification_tasks'
down_revision = '0011_base_refused'
branch_labels = None
depends_on = None

OLD_KINDS = ('new_referral', 'answer_due', 'check_due', 'check_overdue', 'certification_expiring',
             'agreement_expiring', 'base_flagged', 'pre_release', 'fair_invitation', 'certification_refused')
NEW_KINDS = OLD_KINDS + ('export_requested', 'export_approved', 'export_refused', 'export_expired')


def _kinds(kinds) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('task_key', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('done_at', sa.DateTime(), nullable=True))
        batch_op.create_index('ix_notifications_task_key', ['task_key'], unique=False)
        batch_op.drop_constraint(op.f('ck_notifications_notificationkind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notifications_notificationkind'), _kinds(NEW_KINDS))
    # The task each existing notice announces (matcher.notify.tasks names them the same way).
    notifications = sa.table('notifications', sa.column('kind', sa.String), sa.column('key', sa.String),
                             sa.column('subject_id', sa.Integer), sa.column('task_key', sa.String),
                             sa.column('read_at', sa.DateTime()), sa.column('done_at', sa.DateTime()))
    rows = op.get_bind().execute(sa.select(notifications.c.key, notifications.c.kind, notifications.c.subject_id)
                                 .where(notifications.c.kind.in_(['new_referral', 'answer_due', 'check_due',
                                                                  'check_overdue', 'certification_expiring']))).all()
    for key, kind, subject_id in rows:
        task = None
        if kind == 'new_referral' and key.startswith('referral:'):
            task = f"{key}:sent"
        elif kind == 'answer_due':
            task = key  # referral:ID:STATUS
        elif kind in ('check_due', 'check_overdue') and key.startswith('task:'):
            task = 'follow_up:' + key.split(':', 1)[1]
        elif kind == 'certification_expiring' and subject_id is not None:
            task = f"company:{subject_id}:certification"
        if task:
            op.execute(notifications.update().where(notifications.c.key == key, notifications.c.kind == kind)
                       .values(task_key=task[:80]))
    op.execute(notifications.update().where(notifications.c.task_key.is_(None), notifications.c.read_at.is_not(None))
               .values(done_at=notifications.c.read_at))
    _close_tasks_already_done()


def _close_tasks_already_done():
    """Notices whose task was done before this migration: the referral has left the status it waited in, the
    check is done or cancelled. They are closed (and read) as of now."""
    bind = op.get_bind()
    referrals = dict(bind.execute(sa.text("SELECT id, status FROM referrals")).all())
    checks = dict(bind.execute(sa.text("SELECT id, status FROM follow_up_tasks")).all())
    done = []
    for (task,) in bind.execute(sa.text("SELECT DISTINCT task_key FROM notifications WHERE task_key IS NOT NULL "
                                        "AND done_at IS NULL")).all():
        kind, _, rest = task.partition(':')
        if kind == 'referral':
            referral_id, _, status = rest.partition(':')
            if referral_id.isdigit() and referrals.get(int(referral_id), status) != status:
                done.append(task)
        elif kind == 'follow_up' and rest.isdigit() and checks.get(int(rest), 'open') != 'open':
            done.append(task)
    from matcher import clock

    now = clock.naive_utc(clock.now())
    for task in done:
        bind.execute(sa.text("UPDATE notifications SET done_at = :now, read_at = COALESCE(read_at, :now) "
                             "WHERE task_key = :task"), {"task": task, "now": now})


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind IN "
               "('export_requested', 'export_approved', 'export_refused', 'export_expired')")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_notificationkind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notifications_notificationkind'), _kinds(OLD_KINDS))
        batch_op.drop_index('ix_notifications_task_key')
        batch_op.drop_column('done_at')
        batch_op.drop_column('task_key')
