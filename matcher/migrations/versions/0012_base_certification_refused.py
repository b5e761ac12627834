"""a base's application can be refused (不予认定), and the base is told

Revision ID: 0011_base_refused
Revises: 0011_calendar_feeds
Create Date: 2026-12-06 23:30:00

* certification status `refused`: an application the bureau decided not to certify, with its reason in the
  certification history (companies.certification_status, certification_events.from_status / to_status);
* notification kind `certification_refused`: the base's employers are told of the decision.

Each CHECK constraint of those enums is replaced by one that admits the new value (a batch rebuild on SQLite;
none of these tables carries a trigger).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_base_refused'
down_revision = '0011_calendar_feeds'
branch_labels = None
depends_on = None

OLD_STATUSES = ('applied', 'certified', 'suspended', 'expired', 'revoked')
NEW_STATUSES = (*OLD_STATUSES, 'refused')
OLD_KINDS = ('new_referral', 'answer_due', 'check_due', 'check_overdue', 'certification_expiring',
             'agreement_expiring', 'base_flagged', 'pre_release', 'fair_invitation')
NEW_KINDS = (*OLD_KINDS, 'certification_refused')

CHECKS = (  # table, column, constraint name, old values, new values, length
    ('companies', 'certification_status', 'certificationstatus', OLD_STATUSES, NEW_STATUSES, 24),
    ('certification_events', 'from_status', 'from_status', OLD_STATUSES, NEW_STATUSES, 24),
    ('certification_events', 'to_status', 'to_status', OLD_STATUSES, NEW_STATUSES, 24),
    ('notifications', 'kind', 'notificationkind', OLD_KINDS, NEW_KINDS, 32),
)


def _condition(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def _swap(new: bool) -> None:
    for table, column, name, old_values, new_values, _length in CHECKS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_='check')
            batch_op.create_check_constraint(name, sa.text(_condition(column, new_values if new else old_values)))


def upgrade():
    _swap(new=True)


def downgrade():
    op.execute("DELETE FROM notifications WHERE kind = 'certification_refused'")
    op.execute("UPDATE certification_events SET from_status = 'revoked' WHERE from_status = 'refused'")
    op.execute("UPDATE certification_events SET to_status = 'revoked' WHERE to_status = 'refused'")
    op.execute("UPDATE companies SET certification_status = 'revoked' WHERE certification_status = 'refused'")
    _swap(new=False)
