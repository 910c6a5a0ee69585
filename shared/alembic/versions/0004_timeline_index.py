"""An index on ap_objects.attributed_to, for members' home timelines.

The timeline selects the objects of the accounts a member follows by their
author, which without an index reads the whole table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05 00:10:00
"""

from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f('ix_ap_objects_attributed_to'), 'ap_objects', ['attributed_to'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_ap_objects_attributed_to'), table_name='ap_objects')
