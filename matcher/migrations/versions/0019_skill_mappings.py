"""skills understood: the administrators' readings of free text, occupations of the 2022 classification, skills
of the national skill standards

Revision ID: 0019_skill_mappings
Revises: 0018_base_answers
Create Date: 2026-12-07 05:20:00

* skill_text_mappings: a free text (normalised) read as a taxonomy skill, or as naming none; suggested by a
  caseworker or an administrator, confirmed by an administrator.
* occupations: level (1-4 of 职业分类大典 2022), the green/digital marks, aliases and the definition.
* skills: the national skill standard's occupation and the lowest grade (5 五级 ... 1 一级) that asks for it.
"""
from alembic import op
import sqlalchemy as sa



# revision identifiers, used by Alembic.
revision = '0019_skill_mappings'
down_revision = '0018_base_answers'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('skill_text_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text_key', sa.String(length=60), nullable=False),
    sa.Column('text', sa.String(length=60), nullable=False),
    sa.Column('status', sa.Enum('suggested', 'confirmed', name='mapping_status', native_enum=False,
                                create_constraint=True, length=16), nullable=False),
    sa.Column('skill_code', sa.String(length=40), nullable=True),
    sa.Column('suggested_code', sa.String(length=40), nullable=True),
    sa.Column('suggested_by_id', sa.Integer(), nullable=True),
    sa.Column('suggested_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status != 'suggested' OR suggested_code IS NOT NULL",
                       name=op.f('ck_skill_text_mappings_suggestion_names_a_skill')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['accounts.id'], name=op.f('fk_skill_text_mappings_decided_by_id_accounts')),
    sa.ForeignKeyConstraint(['skill_code'], ['skills.code'], name=op.f('fk_skill_text_mappings_skill_code_skills')),
    sa.ForeignKeyConstraint(['suggested_by_id'], ['accounts.id'], name=op.f('fk_skill_text_mappings_suggested_by_id_accounts')),
    sa.ForeignKeyConstraint(['suggested_code'], ['skills.code'], name=op.f('fk_skill_text_mappings_suggested_code_skills')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skill_text_mappings')),
    sa.UniqueConstraint('text_key', name=op.f('uq_skill_text_mappings_text_key'))
    )
    with op.batch_alter_table('skill_text_mappings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_skill_text_mappings_status'), ['status'], unique=False)

    with op.batch_alter_table('occupations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('level', sa.SmallInteger(), server_default='4', nullable=False))
        batch_op.add_column(sa.Column('marks', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('aliases', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('definition', sa.Text(), nullable=True))

    with op.batch_alter_table('skills', schema=None) as batch_op:
        batch_op.add_column(sa.Column('standard_occupation', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('standard_grade', sa.SmallInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('skills', schema=None) as batch_op:
        batch_op.drop_column('standard_grade')
        batch_op.drop_column('standard_occupation')

    with op.batch_alter_table('occupations', schema=None) as batch_op:
        batch_op.drop_column('definition')
        batch_op.drop_column('aliases')
        batch_op.drop_column('marks')
        batch_op.drop_column('level')

    with op.batch_alter_table('skill_text_mappings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_skill_text_mappings_status'))

    op.drop_table('skill_text_mappings')
