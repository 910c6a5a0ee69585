"""ActivityPub: the delivery queue, remote actors and keys, domain blocks, inbound idempotency.

An inbound activity is unique per (activity id, recipient), so ap_activities
trades its unique uri for the pair; outbound rows use an empty recipient.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 21:28:21.997512
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ap_domain_blocks',
    sa.Column('domain', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('domain = lower(domain)', name=op.f('ck_ap_domain_blocks_domain_lowercase')),
    sa.PrimaryKeyConstraint('domain', name=op.f('pk_ap_domain_blocks'))
    )
    op.create_table('ap_remote_actors',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('uri', sa.Text(), nullable=False),
    sa.Column('actor_type', sa.String(length=40), nullable=False),
    sa.Column('preferred_username', sa.Text(), nullable=True),
    sa.Column('inbox', sa.Text(), nullable=True),
    sa.Column('shared_inbox', sa.Text(), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ap_remote_actors')),
    sa.UniqueConstraint('uri', name=op.f('uq_ap_remote_actors_uri'))
    )
    op.create_table('ap_remote_keys',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('key_id', sa.Text(), nullable=False),
    sa.Column('actor_uri', sa.Text(), nullable=False),
    sa.Column('public_key_pem', sa.Text(), nullable=False),
    sa.Column('fetched_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ap_remote_keys')),
    sa.UniqueConstraint('key_id', name=op.f('uq_ap_remote_keys_key_id'))
    )
    op.create_index(op.f('ix_ap_remote_keys_actor_uri'), 'ap_remote_keys', ['actor_uri'], unique=False)
    op.create_table('ap_deliveries',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('activity_id', sa.BigInteger(), nullable=False),
    sa.Column('inbox_url', sa.Text(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('state', sa.String(length=10), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'done', 'dead')", name=op.f('ck_ap_deliveries_state_known')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_ap_deliveries_attempts_not_negative')),
    sa.ForeignKeyConstraint(['activity_id'], ['ap_activities.id'], name=op.f('fk_ap_deliveries_activity_id_ap_activities'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ap_deliveries')),
    sa.UniqueConstraint('activity_id', 'inbox_url', name=op.f('uq_ap_deliveries_activity_id_inbox_url'))
    )
    op.create_index('ix_ap_deliveries_pending', 'ap_deliveries', ['next_attempt_at'], unique=False, postgresql_where="state = 'pending'")
    op.add_column('ap_activities', sa.Column('recipient_uri', sa.Text(), server_default='', nullable=False))
    op.add_column('ap_activities', sa.Column('log_seq', sa.BigInteger(), nullable=True))
    op.drop_constraint(op.f('uq_ap_activities_uri'), 'ap_activities', type_='unique')
    op.create_unique_constraint(op.f('uq_ap_activities_uri_recipient_uri'), 'ap_activities', ['uri', 'recipient_uri'])
    op.add_column('ap_actors', sa.Column('manually_approves_followers', sa.Boolean(), server_default='false', nullable=False))


def downgrade() -> None:
    op.drop_column('ap_actors', 'manually_approves_followers')
    op.drop_constraint(op.f('uq_ap_activities_uri_recipient_uri'), 'ap_activities', type_='unique')
    op.create_unique_constraint(op.f('uq_ap_activities_uri'), 'ap_activities', ['uri'])
    op.drop_column('ap_activities', 'log_seq')
    op.drop_column('ap_activities', 'recipient_uri')
    op.drop_index('ix_ap_deliveries_pending', table_name='ap_deliveries', postgresql_where="state = 'pending'")
    op.drop_table('ap_deliveries')
    op.drop_index(op.f('ix_ap_remote_keys_actor_uri'), table_name='ap_remote_keys')
    op.drop_table('ap_remote_keys')
    op.drop_table('ap_remote_actors')
    op.drop_table('ap_domain_blocks')
