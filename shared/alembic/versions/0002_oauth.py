"""OAuth 2.0 / OpenID Connect provider: clients, codes, tokens, consents, signing keys.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 21:23:34.268820
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oauth_clients',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=True),
    sa.Column('redirect_uris', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('post_logout_redirect_uris', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('backchannel_logout_uri', sa.Text(), nullable=True),
    sa.Column('is_first_party', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("client_id ~ '^[A-Za-z0-9_-]{1,64}$'", name=op.f('ck_oauth_clients_client_id_format')),
    sa.CheckConstraint("secret_hash ~ '^[0-9a-f]{64}$'", name=op.f('ck_oauth_clients_secret_hash_format')),
    sa.CheckConstraint('NOT is_first_party OR secret_hash IS NOT NULL', name=op.f('ck_oauth_clients_first_party_is_confidential')),
    sa.CheckConstraint('cardinality(redirect_uris) >= 1', name=op.f('ck_oauth_clients_has_redirect_uri')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_clients')),
    sa.UniqueConstraint('client_id', name=op.f('uq_oauth_clients_client_id'))
    )
    op.create_table('oidc_signing_keys',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('kid', sa.String(length=100), nullable=False),
    sa.Column('private_key_pem', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oidc_signing_keys')),
    sa.UniqueConstraint('kid', name=op.f('uq_oidc_signing_keys_kid'))
    )
    op.create_index('ix_oidc_signing_keys_active', 'oidc_signing_keys', ['created_at'], unique=False, postgresql_where='retired_at IS NULL')
    op.create_table('oauth_authorization_codes',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_pk', sa.BigInteger(), nullable=False),
    sa.Column('member_id', sa.BigInteger(), nullable=False),
    sa.Column('redirect_uri', sa.Text(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('nonce', sa.Text(), nullable=True),
    sa.Column('code_challenge', sa.String(length=128), nullable=True),
    sa.Column('code_challenge_method', sa.String(length=10), nullable=True),
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('session_sid', sa.String(length=64), nullable=True),
    sa.Column('auth_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("code_challenge_method = 'S256'", name=op.f('ck_oauth_authorization_codes_challenge_method_s256')),
    sa.CheckConstraint("code_hash ~ '^[0-9a-f]{64}$'", name=op.f('ck_oauth_authorization_codes_code_hash_format')),
    sa.CheckConstraint("expires_at <= created_at + interval '10 minutes'", name=op.f('ck_oauth_authorization_codes_lives_at_most_10_minutes')),
    sa.CheckConstraint('(code_challenge IS NULL) = (code_challenge_method IS NULL)', name=op.f('ck_oauth_authorization_codes_challenge_complete')),
    sa.ForeignKeyConstraint(['client_pk'], ['oauth_clients.id'], name=op.f('fk_oauth_authorization_codes_client_pk_oauth_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_oauth_authorization_codes_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_authorization_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_oauth_authorization_codes_code_hash')),
    sa.UniqueConstraint('family_id', name=op.f('uq_oauth_authorization_codes_family_id'))
    )
    op.create_index(op.f('ix_oauth_authorization_codes_client_pk'), 'oauth_authorization_codes', ['client_pk'], unique=False)
    op.create_index(op.f('ix_oauth_authorization_codes_member_id'), 'oauth_authorization_codes', ['member_id'], unique=False)
    op.create_table('oauth_consents',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('member_id', sa.BigInteger(), nullable=False),
    sa.Column('client_pk', sa.BigInteger(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['client_pk'], ['oauth_clients.id'], name=op.f('fk_oauth_consents_client_pk_oauth_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_oauth_consents_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_consents')),
    sa.UniqueConstraint('member_id', 'client_pk', name=op.f('uq_oauth_consents_member_id_client_pk'))
    )
    op.create_index(op.f('ix_oauth_consents_client_pk'), 'oauth_consents', ['client_pk'], unique=False)
    op.create_table('oauth_tokens',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_type', sa.String(length=10), nullable=False),
    sa.Column('client_pk', sa.BigInteger(), nullable=False),
    sa.Column('member_id', sa.BigInteger(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('family_id', sa.Uuid(), nullable=False),
    sa.Column('session_sid', sa.String(length=64), nullable=True),
    sa.Column('auth_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("token_hash ~ '^[0-9a-f]{64}$'", name=op.f('ck_oauth_tokens_token_hash_format')),
    sa.CheckConstraint("token_type = 'refresh' OR rotated_at IS NULL", name=op.f('ck_oauth_tokens_only_refresh_rotates')),
    sa.CheckConstraint("token_type IN ('access', 'refresh')", name=op.f('ck_oauth_tokens_type_known')),
    sa.CheckConstraint('expires_at > created_at', name=op.f('ck_oauth_tokens_expires_after_creation')),
    sa.ForeignKeyConstraint(['client_pk'], ['oauth_clients.id'], name=op.f('fk_oauth_tokens_client_pk_oauth_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_oauth_tokens_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_oauth_tokens_token_hash'))
    )
    op.create_index(op.f('ix_oauth_tokens_client_pk'), 'oauth_tokens', ['client_pk'], unique=False)
    op.create_index(op.f('ix_oauth_tokens_family_id'), 'oauth_tokens', ['family_id'], unique=False)
    op.create_index(op.f('ix_oauth_tokens_member_id'), 'oauth_tokens', ['member_id'], unique=False)


def downgrade() -> None:
    op.drop_table('oauth_tokens')
    op.drop_table('oauth_consents')
    op.drop_table('oauth_authorization_codes')
    op.drop_table('oidc_signing_keys')
    op.drop_table('oauth_clients')
