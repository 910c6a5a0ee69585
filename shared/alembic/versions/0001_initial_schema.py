"""Initial schema: every domain's first tables.

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-04 21:05:44.361991
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendars',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('timezone', sa.String(length=64), server_default='Europe/London', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendars')),
    sa.UniqueConstraint('slug', name=op.f('uq_calendars_slug'))
    )
    op.create_table('categories',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categories')),
    sa.UniqueConstraint('slug', name=op.f('uq_categories_slug'))
    )
    op.create_table('markets',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_markets')),
    sa.UniqueConstraint('slug', name=op.f('uq_markets_slug'))
    )
    op.create_table('members',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('username', sa.String(length=30), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.Column('bio', sa.Text(), server_default='', nullable=False),
    sa.Column('is_admin', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("position('@' in email) > 1", name=op.f('ck_members_email_format')),
    sa.CheckConstraint("username ~ '^[a-z0-9_]{1,30}$'", name=op.f('ck_members_username_format')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('username', name=op.f('uq_members_username'))
    )
    op.create_index('uq_members_lower_email', 'members', [sa.literal_column('lower(email)')], unique=True)
    op.create_table('navigation_items',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('sort_order', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_navigation_items'))
    )
    op.create_table('newsletters',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_newsletters')),
    sa.UniqueConstraint('slug', name=op.f('uq_newsletters_slug'))
    )
    op.create_table('posts',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('ghost_id', sa.String(length=64), nullable=True),
    sa.Column('slug', sa.String(length=191), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), server_default='', nullable=False),
    sa.Column('excerpt', sa.Text(), server_default='', nullable=False),
    sa.Column('feature_image', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='draft', nullable=False),
    sa.Column('is_page', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('featured', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status <> 'published' OR published_at IS NOT NULL", name=op.f('ck_posts_published_has_date')),
    sa.CheckConstraint("status IN ('draft', 'published', 'scheduled')", name=op.f('ck_posts_status_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posts')),
    sa.UniqueConstraint('ghost_id', name=op.f('uq_posts_ghost_id')),
    sa.UniqueConstraint('slug', name=op.f('uq_posts_slug'))
    )
    op.create_index('ix_posts_listing', 'posts', ['is_page', 'status', 'published_at'], unique=False)
    op.create_table('producers',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('website', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_producers')),
    sa.UniqueConstraint('slug', name=op.f('uq_producers_slug'))
    )
    op.create_table('tags',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('ghost_id', sa.String(length=64), nullable=True),
    sa.Column('slug', sa.String(length=191), nullable=False),
    sa.Column('name', sa.String(length=191), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('visibility', sa.String(length=20), server_default='public', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tags')),
    sa.UniqueConstraint('ghost_id', name=op.f('uq_tags_ghost_id')),
    sa.UniqueConstraint('slug', name=op.f('uq_tags_slug'))
    )
    op.create_table('ap_actors',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('preferred_username', sa.String(length=64), nullable=False),
    sa.Column('actor_type', sa.String(length=20), nullable=False),
    sa.Column('member_id', sa.BigInteger(), nullable=True),
    sa.Column('app_name', sa.String(length=20), nullable=True),
    sa.Column('display_name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('summary', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("actor_type IN ('Person', 'Application', 'Service', 'Group')", name=op.f('ck_ap_actors_type_known')),
    sa.CheckConstraint("preferred_username ~ '^[a-z0-9_.-]{1,64}$'", name=op.f('ck_ap_actors_username_format')),
    sa.CheckConstraint('(member_id IS NULL) <> (app_name IS NULL)', name=op.f('ck_ap_actors_member_or_app')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_ap_actors_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ap_actors')),
    sa.UniqueConstraint('app_name', name=op.f('uq_ap_actors_app_name')),
    sa.UniqueConstraint('member_id', name=op.f('uq_ap_actors_member_id')),
    sa.UniqueConstraint('preferred_username', name=op.f('uq_ap_actors_preferred_username'))
    )
    op.create_table('authors',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('ghost_id', sa.String(length=64), nullable=True),
    sa.Column('slug', sa.String(length=191), nullable=False),
    sa.Column('name', sa.String(length=191), nullable=False),
    sa.Column('bio', sa.Text(), server_default='', nullable=False),
    sa.Column('profile_image', sa.Text(), nullable=True),
    sa.Column('member_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_authors_member_id_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authors')),
    sa.UniqueConstraint('ghost_id', name=op.f('uq_authors_ghost_id')),
    sa.UniqueConstraint('slug', name=op.f('uq_authors_slug'))
    )
    op.create_table('carts',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('session_key', sa.String(length=64), nullable=True),
    sa.Column('member_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('session_key IS NOT NULL OR member_id IS NOT NULL', name=op.f('ck_carts_has_owner')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_carts_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carts')),
    sa.UniqueConstraint('member_id', name=op.f('uq_carts_member_id')),
    sa.UniqueConstraint('session_key', name=op.f('uq_carts_session_key'))
    )
    op.create_table('event_entries',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('calendar_id', sa.BigInteger(), nullable=False),
    sa.Column('slug', sa.String(length=150), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('location', sa.Text(), server_default='', nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('ticket_price_minor', sa.Integer(), nullable=True),
    sa.Column('currency', sa.String(length=3), server_default='GBP', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f('ck_event_entries_currency_iso')),
    sa.CheckConstraint('capacity IS NULL OR capacity >= 0', name=op.f('ck_event_entries_capacity_not_negative')),
    sa.CheckConstraint('ends_at IS NULL OR ends_at >= starts_at', name=op.f('ck_event_entries_ends_after_start')),
    sa.CheckConstraint('ticket_price_minor IS NULL OR ticket_price_minor >= 0', name=op.f('ck_event_entries_price_not_negative')),
    sa.ForeignKeyConstraint(['calendar_id'], ['calendars.id'], name=op.f('fk_event_entries_calendar_id_calendars'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_entries')),
    sa.UniqueConstraint('calendar_id', 'slug', name=op.f('uq_event_entries_calendar_id_slug'))
    )
    op.create_index('ix_event_entries_starts_at', 'event_entries', ['starts_at'], unique=False)
    op.create_table('notifications',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('member_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('actor_uri', sa.Text(), nullable=True),
    sa.Column('object_uri', sa.Text(), nullable=True),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_notifications_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    op.create_index('ix_notifications_unread', 'notifications', ['member_id'], unique=False, postgresql_where='read_at IS NULL')
    op.create_table('orders',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('member_id', sa.BigInteger(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('total_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f('ck_orders_currency_iso')),
    sa.CheckConstraint("status IN ('pending', 'paid', 'cancelled', 'refunded')", name=op.f('ck_orders_status_known')),
    sa.CheckConstraint('total_minor >= 0', name=op.f('ck_orders_total_not_negative')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_orders_member_id_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_orders_idempotency_key'))
    )
    op.create_index(op.f('ix_orders_member_id'), 'orders', ['member_id'], unique=False)
    op.create_table('post_tags',
    sa.Column('post_id', sa.BigInteger(), nullable=False),
    sa.Column('tag_id', sa.BigInteger(), nullable=False),
    sa.Column('sort_order', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_tags_post_id_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_post_tags_tag_id_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'tag_id', name=op.f('pk_post_tags'))
    )
    op.create_table('products',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('slug', sa.String(length=150), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('price_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=True),
    sa.Column('image_url', sa.Text(), nullable=True),
    sa.Column('source_url', sa.Text(), nullable=True),
    sa.Column('market_id', sa.BigInteger(), nullable=False),
    sa.Column('producer_id', sa.BigInteger(), nullable=True),
    sa.Column('category_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f('ck_products_currency_iso')),
    sa.CheckConstraint('price_minor >= 0', name=op.f('ck_products_price_not_negative')),
    sa.CheckConstraint('stock IS NULL OR stock >= 0', name=op.f('ck_products_stock_not_negative')),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_products_category_id_categories'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['market_id'], ['markets.id'], name=op.f('fk_products_market_id_markets'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['producer_id'], ['producers.id'], name=op.f('fk_products_producer_id_producers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('slug', name=op.f('uq_products_slug'))
    )
    op.create_index(op.f('ix_products_market_id'), 'products', ['market_id'], unique=False)
    op.create_index(op.f('ix_products_producer_id'), 'products', ['producer_id'], unique=False)
    op.create_table('subscriptions',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('newsletter_id', sa.BigInteger(), nullable=False),
    sa.Column('member_id', sa.BigInteger(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'confirmed', 'unsubscribed')", name=op.f('ck_subscriptions_status_known')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_subscriptions_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['newsletter_id'], ['newsletters.id'], name=op.f('fk_subscriptions_newsletter_id_newsletters'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions'))
    )
    op.create_index(op.f('ix_subscriptions_member_id'), 'subscriptions', ['member_id'], unique=False)
    op.create_index('uq_subscriptions_newsletter_email', 'subscriptions', ['newsletter_id', sa.literal_column('lower(email)')], unique=True)
    op.create_table('ap_activities',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('uri', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('remote_actor_uri', sa.Text(), nullable=True),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('activity_type', sa.String(length=40), nullable=False),
    sa.Column('object_uri', sa.Text(), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('state', sa.String(length=12), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("direction IN ('inbound', 'outbound')", name=op.f('ck_ap_activities_direction_known')),
    sa.CheckConstraint("state IN ('pending', 'processing', 'done', 'failed')", name=op.f('ck_ap_activities_state_known')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_ap_activities_attempts_not_negative')),
    sa.ForeignKeyConstraint(['actor_id'], ['ap_actors.id'], name=op.f('fk_ap_activities_actor_id_ap_actors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ap_activities')),
    sa.UniqueConstraint('uri', name=op.f('uq_ap_activities_uri'))
    )
    op.create_index(op.f('ix_ap_activities_actor_id'), 'ap_activities', ['actor_id'], unique=False)
    op.create_index('ix_ap_activities_pending', 'ap_activities', ['next_attempt_at'], unique=False, postgresql_where="state = 'pending'")
    op.create_table('ap_follows',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('local_actor_id', sa.BigInteger(), nullable=False),
    sa.Column('remote_actor_uri', sa.Text(), nullable=False),
    sa.Column('remote_inbox', sa.Text(), nullable=True),
    sa.Column('remote_shared_inbox', sa.Text(), nullable=True),
    sa.Column('direction', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=10), server_default='pending', nullable=False),
    sa.Column('follow_activity_uri', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("direction IN ('inbound', 'outbound')", name=op.f('ck_ap_follows_direction_known')),
    sa.CheckConstraint("state IN ('pending', 'accepted', 'rejected')", name=op.f('ck_ap_follows_state_known')),
    sa.ForeignKeyConstraint(['local_actor_id'], ['ap_actors.id'], name=op.f('fk_ap_follows_local_actor_id_ap_actors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ap_follows')),
    sa.UniqueConstraint('local_actor_id', 'remote_actor_uri', 'direction', name=op.f('uq_ap_follows_local_actor_id_remote_actor_uri_direction'))
    )
    op.create_table('ap_keys',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=False),
    sa.Column('key_id', sa.Text(), nullable=False),
    sa.Column('public_key_pem', sa.Text(), nullable=False),
    sa.Column('private_key_pem', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['ap_actors.id'], name=op.f('fk_ap_keys_actor_id_ap_actors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ap_keys')),
    sa.UniqueConstraint('key_id', name=op.f('uq_ap_keys_key_id'))
    )
    op.create_index(op.f('ix_ap_keys_actor_id'), 'ap_keys', ['actor_id'], unique=False)
    op.create_table('ap_objects',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('uri', sa.Text(), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('actor_id', sa.BigInteger(), nullable=True),
    sa.Column('attributed_to', sa.Text(), nullable=True),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('is_local', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['ap_actors.id'], name=op.f('fk_ap_objects_actor_id_ap_actors'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ap_objects')),
    sa.UniqueConstraint('uri', name=op.f('uq_ap_objects_uri'))
    )
    op.create_index(op.f('ix_ap_objects_actor_id'), 'ap_objects', ['actor_id'], unique=False)
    op.create_table('bookings',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('event_entry_id', sa.BigInteger(), nullable=False),
    sa.Column('member_id', sa.BigInteger(), nullable=False),
    sa.Column('seats', sa.Integer(), server_default='1', nullable=False),
    sa.Column('status', sa.String(length=20), server_default='confirmed', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('confirmed', 'waitlisted', 'cancelled')", name=op.f('ck_bookings_status_known')),
    sa.CheckConstraint('seats > 0', name=op.f('ck_bookings_seats_positive')),
    sa.ForeignKeyConstraint(['event_entry_id'], ['event_entries.id'], name=op.f('fk_bookings_event_entry_id_event_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_bookings_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    sa.UniqueConstraint('event_entry_id', 'member_id', name=op.f('uq_bookings_event_entry_id_member_id'))
    )
    op.create_index(op.f('ix_bookings_member_id'), 'bookings', ['member_id'], unique=False)
    op.create_table('cart_items',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('cart_id', sa.BigInteger(), nullable=False),
    sa.Column('product_id', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_cart_items_quantity_positive')),
    sa.ForeignKeyConstraint(['cart_id'], ['carts.id'], name=op.f('fk_cart_items_cart_id_carts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_cart_items_product_id_products'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cart_items')),
    sa.UniqueConstraint('cart_id', 'product_id', name=op.f('uq_cart_items_cart_id_product_id'))
    )
    op.create_index(op.f('ix_cart_items_product_id'), 'cart_items', ['product_id'], unique=False)
    op.create_table('order_lines',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('product_id', sa.BigInteger(), nullable=True),
    sa.Column('product_name', sa.Text(), nullable=False),
    sa.Column('unit_price_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f('ck_order_lines_currency_iso')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_order_lines_quantity_positive')),
    sa.CheckConstraint('unit_price_minor >= 0', name=op.f('ck_order_lines_price_not_negative')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_lines_order_id_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_order_lines_product_id_products'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_lines'))
    )
    op.create_index(op.f('ix_order_lines_order_id'), 'order_lines', ['order_id'], unique=False)
    op.create_table('payments',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('provider', sa.String(length=30), nullable=False),
    sa.Column('provider_reference', sa.String(length=200), nullable=False),
    sa.Column('amount_minor', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='pending', nullable=False),
    sa.Column('detail', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f('ck_payments_currency_iso')),
    sa.CheckConstraint("status IN ('pending', 'paid', 'failed', 'expired', 'refunded')", name=op.f('ck_payments_status_known')),
    sa.CheckConstraint('amount_minor >= 0', name=op.f('ck_payments_amount_not_negative')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payments_order_id_orders'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('provider', 'provider_reference', name=op.f('uq_payments_provider_provider_reference'))
    )
    op.create_index(op.f('ix_payments_order_id'), 'payments', ['order_id'], unique=False)
    op.create_table('post_authors',
    sa.Column('post_id', sa.BigInteger(), nullable=False),
    sa.Column('author_id', sa.BigInteger(), nullable=False),
    sa.Column('sort_order', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['authors.id'], name=op.f('fk_post_authors_author_id_authors'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_authors_post_id_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'author_id', name=op.f('pk_post_authors'))
    )
    op.create_table('tickets',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('event_entry_id', sa.BigInteger(), nullable=False),
    sa.Column('member_id', sa.BigInteger(), nullable=True),
    sa.Column('order_id', sa.BigInteger(), nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), server_default='reserved', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('reserved', 'paid', 'checked_in', 'cancelled')", name=op.f('ck_tickets_status_known')),
    sa.ForeignKeyConstraint(['event_entry_id'], ['event_entries.id'], name=op.f('fk_tickets_event_entry_id_event_entries'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_tickets_member_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_tickets_order_id_orders'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('code', name=op.f('uq_tickets_code'))
    )
    op.create_index(op.f('ix_tickets_event_entry_id'), 'tickets', ['event_entry_id'], unique=False)
    op.create_index(op.f('ix_tickets_member_id'), 'tickets', ['member_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_tickets_member_id'), table_name='tickets')
    op.drop_index(op.f('ix_tickets_event_entry_id'), table_name='tickets')
    op.drop_table('tickets')
    op.drop_table('post_authors')
    op.drop_index(op.f('ix_payments_order_id'), table_name='payments')
    op.drop_table('payments')
    op.drop_index(op.f('ix_order_lines_order_id'), table_name='order_lines')
    op.drop_table('order_lines')
    op.drop_index(op.f('ix_cart_items_product_id'), table_name='cart_items')
    op.drop_table('cart_items')
    op.drop_index(op.f('ix_bookings_member_id'), table_name='bookings')
    op.drop_table('bookings')
    op.drop_index(op.f('ix_ap_objects_actor_id'), table_name='ap_objects')
    op.drop_table('ap_objects')
    op.drop_index(op.f('ix_ap_keys_actor_id'), table_name='ap_keys')
    op.drop_table('ap_keys')
    op.drop_table('ap_follows')
    op.drop_index('ix_ap_activities_pending', table_name='ap_activities', postgresql_where="state = 'pending'")
    op.drop_index(op.f('ix_ap_activities_actor_id'), table_name='ap_activities')
    op.drop_table('ap_activities')
    op.drop_index('uq_subscriptions_newsletter_email', table_name='subscriptions')
    op.drop_index(op.f('ix_subscriptions_member_id'), table_name='subscriptions')
    op.drop_table('subscriptions')
    op.drop_index(op.f('ix_products_producer_id'), table_name='products')
    op.drop_index(op.f('ix_products_market_id'), table_name='products')
    op.drop_table('products')
    op.drop_table('post_tags')
    op.drop_index(op.f('ix_orders_member_id'), table_name='orders')
    op.drop_table('orders')
    op.drop_index('ix_notifications_unread', table_name='notifications', postgresql_where='read_at IS NULL')
    op.drop_table('notifications')
    op.drop_index('ix_event_entries_starts_at', table_name='event_entries')
    op.drop_table('event_entries')
    op.drop_table('carts')
    op.drop_table('authors')
    op.drop_table('ap_actors')
    op.drop_table('tags')
    op.drop_table('producers')
    op.drop_index('ix_posts_listing', table_name='posts')
    op.drop_table('posts')
    op.drop_table('newsletters')
    op.drop_table('navigation_items')
    op.drop_index('uq_members_lower_email', table_name='members')
    op.drop_table('members')
    op.drop_table('markets')
    op.drop_table('categories')
    op.drop_table('calendars')
