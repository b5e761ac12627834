"""sessions ended at logout, logins locked per account and address, the audit chain's key id

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 18:15:00

* ended_sessions: a session ended by logging out is refused if its cookie comes back (kept until the session
  would have timed out anyway).
* login_locks: wrong passwords lock an account for the failing address only (a keyed hash of it), so nobody can
  lock the bureau's administrators out from elsewhere; the account-wide count and lock go. Locks in force when
  this runs (15 minutes at most) are forgotten.
* audit_events.key_id: which key signed an event's HMAC; NULL for the events hashed with plain SHA-256 before.
  Added with a plain ALTER TABLE: on SQLite a batch rebuild would drop migration 0006's append-only triggers.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ended_sessions',
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('sid', name=op.f('pk_ended_sessions'))
    )
    with op.batch_alter_table('ended_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ended_sessions_expires_at'), ['expires_at'], unique=False)

    op.create_table('login_locks',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_login_locks_account_id_accounts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'address', name=op.f('pk_login_locks'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')

    op.add_column('audit_events', sa.Column('key_id', sa.String(length=16), nullable=True))


def downgrade():
    op.drop_column('audit_events', 'key_id')

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))

    op.drop_table('login_locks')
    with op.batch_alter_table('ended_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ended_sessions_expires_at'))
    op.drop_table('ended_sessions')
