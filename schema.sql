-- Rose Ash database schema, generated from the migrations in shared/alembic.
-- Do not edit: run `rose-ash db schema-sql` after adding a migration.

BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 0001

CREATE TABLE calendars (
    id BIGSERIAL NOT NULL,
    slug VARCHAR(100) NOT NULL,
    name VARCHAR(200) NOT NULL,
    description TEXT DEFAULT '' NOT NULL,
    timezone VARCHAR(64) DEFAULT 'Europe/London' NOT NULL,
    CONSTRAINT pk_calendars PRIMARY KEY (id),
    CONSTRAINT uq_calendars_slug UNIQUE (slug)
);

CREATE TABLE categories (
    id BIGSERIAL NOT NULL,
    slug VARCHAR(100) NOT NULL,
    name VARCHAR(200) NOT NULL,
    CONSTRAINT pk_categories PRIMARY KEY (id),
    CONSTRAINT uq_categories_slug UNIQUE (slug)
);

CREATE TABLE markets (
    id BIGSERIAL NOT NULL,
    slug VARCHAR(100) NOT NULL,
    name VARCHAR(200) NOT NULL,
    description TEXT DEFAULT '' NOT NULL,
    CONSTRAINT pk_markets PRIMARY KEY (id),
    CONSTRAINT uq_markets_slug UNIQUE (slug)
);

CREATE TABLE members (
    id BIGSERIAL NOT NULL,
    username VARCHAR(30) NOT NULL,
    email VARCHAR(254) NOT NULL,
    display_name VARCHAR(100) NOT NULL,
    password_hash TEXT,
    bio TEXT DEFAULT '' NOT NULL,
    is_admin BOOLEAN DEFAULT 'false' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_members PRIMARY KEY (id),
    CONSTRAINT ck_members_email_format CHECK (position('@' in email) > 1),
    CONSTRAINT ck_members_username_format CHECK (username ~ '^[a-z0-9_]{1,30}$'),
    CONSTRAINT uq_members_username UNIQUE (username)
);

CREATE UNIQUE INDEX uq_members_lower_email ON members (lower(email));

CREATE TABLE navigation_items (
    id BIGSERIAL NOT NULL,
    label VARCHAR(100) NOT NULL,
    url TEXT NOT NULL,
    sort_order INTEGER DEFAULT '0' NOT NULL,
    CONSTRAINT pk_navigation_items PRIMARY KEY (id)
);

CREATE TABLE newsletters (
    id BIGSERIAL NOT NULL,
    slug VARCHAR(100) NOT NULL,
    name VARCHAR(200) NOT NULL,
    description TEXT DEFAULT '' NOT NULL,
    CONSTRAINT pk_newsletters PRIMARY KEY (id),
    CONSTRAINT uq_newsletters_slug UNIQUE (slug)
);

CREATE TABLE posts (
    id BIGSERIAL NOT NULL,
    ghost_id VARCHAR(64),
    slug VARCHAR(191) NOT NULL,
    title TEXT NOT NULL,
    html TEXT DEFAULT '' NOT NULL,
    excerpt TEXT DEFAULT '' NOT NULL,
    feature_image TEXT,
    status VARCHAR(20) DEFAULT 'draft' NOT NULL,
    is_page BOOLEAN DEFAULT 'false' NOT NULL,
    featured BOOLEAN DEFAULT 'false' NOT NULL,
    published_at TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_posts PRIMARY KEY (id),
    CONSTRAINT ck_posts_published_has_date CHECK (status <> 'published' OR published_at IS NOT NULL),
    CONSTRAINT ck_posts_status_known CHECK (status IN ('draft', 'published', 'scheduled')),
    CONSTRAINT uq_posts_ghost_id UNIQUE (ghost_id),
    CONSTRAINT uq_posts_slug UNIQUE (slug)
);

CREATE INDEX ix_posts_listing ON posts (is_page, status, published_at);

CREATE TABLE producers (
    id BIGSERIAL NOT NULL,
    slug VARCHAR(100) NOT NULL,
    name VARCHAR(200) NOT NULL,
    description TEXT DEFAULT '' NOT NULL,
    website TEXT,
    CONSTRAINT pk_producers PRIMARY KEY (id),
    CONSTRAINT uq_producers_slug UNIQUE (slug)
);

CREATE TABLE tags (
    id BIGSERIAL NOT NULL,
    ghost_id VARCHAR(64),
    slug VARCHAR(191) NOT NULL,
    name VARCHAR(191) NOT NULL,
    description TEXT DEFAULT '' NOT NULL,
    visibility VARCHAR(20) DEFAULT 'public' NOT NULL,
    CONSTRAINT pk_tags PRIMARY KEY (id),
    CONSTRAINT uq_tags_ghost_id UNIQUE (ghost_id),
    CONSTRAINT uq_tags_slug UNIQUE (slug)
);

CREATE TABLE ap_actors (
    id BIGSERIAL NOT NULL,
    preferred_username VARCHAR(64) NOT NULL,
    actor_type VARCHAR(20) NOT NULL,
    member_id BIGINT,
    app_name VARCHAR(20),
    display_name VARCHAR(200) DEFAULT '' NOT NULL,
    summary TEXT DEFAULT '' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_ap_actors PRIMARY KEY (id),
    CONSTRAINT ck_ap_actors_type_known CHECK (actor_type IN ('Person', 'Application', 'Service', 'Group')),
    CONSTRAINT ck_ap_actors_username_format CHECK (preferred_username ~ '^[a-z0-9_.-]{1,64}$'),
    CONSTRAINT ck_ap_actors_member_or_app CHECK ((member_id IS NULL) <> (app_name IS NULL)),
    CONSTRAINT fk_ap_actors_member_id_members FOREIGN KEY(member_id) REFERENCES members (id) ON DELETE CASCADE,
    CONSTRAINT uq_ap_actors_app_name UNIQUE (app_name),
    CONSTRAINT uq_ap_actors_member_id UNIQUE (member_id),
    CONSTRAINT uq_ap_actors_preferred_username UNIQUE (preferred_username)
);

CREATE TABLE authors (
    id BIGSERIAL NOT NULL,
    ghost_id VARCHAR(64),
    slug VARCHAR(191) NOT NULL,
    name VARCHAR(191) NOT NULL,
    bio TEXT DEFAULT '' NOT NULL,
    profile_image TEXT,
    member_id BIGINT,
    CONSTRAINT pk_authors PRIMARY KEY (id),
    CONSTRAINT fk_authors_member_id_members FOREIGN KEY(member_id) REFERENCES members (id) ON DELETE SET NULL,
    CONSTRAINT uq_authors_ghost_id UNIQUE (ghost_id),
    CONSTRAINT uq_authors_slug UNIQUE (slug)
);

CREATE TABLE carts (
    id BIGSERIAL NOT NULL,
    session_key VARCHAR(64),
    member_id BIGINT,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_carts PRIMARY KEY (id),
    CONSTRAINT ck_carts_has_owner CHECK (session_key IS NOT NULL OR member_id IS NOT NULL),
    CONSTRAINT fk_carts_member_id_members FOREIGN KEY(member_id) REFERENCES members (id) ON DELETE CASCADE,
    CONSTRAINT uq_carts_member_id UNIQUE (member_id),
    CONSTRAINT uq_carts_session_key UNIQUE (session_key)
);

CREATE TABLE event_entries (
    id BIGSERIAL NOT NULL,
    calendar_id BIGINT NOT NULL,
    slug VARCHAR(150) NOT NULL,
    title VARCHAR(300) NOT NULL,
    description TEXT DEFAULT '' NOT NULL,
    location TEXT DEFAULT '' NOT NULL,
    starts_at TIMESTAMP WITH TIME ZONE NOT NULL,
    ends_at TIMESTAMP WITH TIME ZONE,
    capacity INTEGER,
    ticket_price_minor INTEGER,
    currency VARCHAR(3) DEFAULT 'GBP' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_event_entries PRIMARY KEY (id),
    CONSTRAINT ck_event_entries_currency_iso CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT ck_event_entries_capacity_not_negative CHECK (capacity IS NULL OR capacity >= 0),
    CONSTRAINT ck_event_entries_ends_after_start CHECK (ends_at IS NULL OR ends_at >= starts_at),
    CONSTRAINT ck_event_entries_price_not_negative CHECK (ticket_price_minor IS NULL OR ticket_price_minor >= 0),
    CONSTRAINT fk_event_entries_calendar_id_calendars FOREIGN KEY(calendar_id) REFERENCES calendars (id) ON DELETE CASCADE,
    CONSTRAINT uq_event_entries_calendar_id_slug UNIQUE (calendar_id, slug)
);

CREATE INDEX ix_event_entries_starts_at ON event_entries (starts_at);

CREATE TABLE notifications (
    id BIGSERIAL NOT NULL,
    member_id BIGINT NOT NULL,
    kind VARCHAR(30) NOT NULL,
    actor_uri TEXT,
    object_uri TEXT,
    read_at TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_notifications PRIMARY KEY (id),
    CONSTRAINT fk_notifications_member_id_members FOREIGN KEY(member_id) REFERENCES members (id) ON DELETE CASCADE
);

CREATE INDEX ix_notifications_unread ON notifications (member_id) WHERE read_at IS NULL;

CREATE TABLE orders (
    id BIGSERIAL NOT NULL,
    member_id BIGINT,
    idempotency_key VARCHAR(100) NOT NULL,
    status VARCHAR(20) DEFAULT 'pending' NOT NULL,
    total_minor INTEGER NOT NULL,
    currency VARCHAR(3) NOT NULL,
    email VARCHAR(254),
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_orders PRIMARY KEY (id),
    CONSTRAINT ck_orders_currency_iso CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT ck_orders_status_known CHECK (status IN ('pending', 'paid', 'cancelled', 'refunded')),
    CONSTRAINT ck_orders_total_not_negative CHECK (total_minor >= 0),
    CONSTRAINT fk_orders_member_id_members FOREIGN KEY(member_id) REFERENCES members (id) ON DELETE SET NULL,
    CONSTRAINT uq_orders_idempotency_key UNIQUE (idempotency_key)
);

CREATE INDEX ix_orders_member_id ON orders (member_id);

CREATE TABLE post_tags (
    post_id BIGINT NOT NULL,
    tag_id BIGINT NOT NULL,
    sort_order INTEGER DEFAULT '0' NOT NULL,
    CONSTRAINT pk_post_tags PRIMARY KEY (post_id, tag_id),
    CONSTRAINT fk_post_tags_post_id_posts FOREIGN KEY(post_id) REFERENCES posts (id) ON DELETE CASCADE,
    CONSTRAINT fk_post_tags_tag_id_tags FOREIGN KEY(tag_id) REFERENCES tags (id) ON DELETE CASCADE
);

CREATE TABLE products (
    id BIGSERIAL NOT NULL,
    slug VARCHAR(150) NOT NULL,
    name VARCHAR(300) NOT NULL,
    description TEXT DEFAULT '' NOT NULL,
    price_minor INTEGER NOT NULL,
    currency VARCHAR(3) NOT NULL,
    stock INTEGER,
    image_url TEXT,
    source_url TEXT,
    market_id BIGINT NOT NULL,
    producer_id BIGINT,
    category_id BIGINT,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_products PRIMARY KEY (id),
    CONSTRAINT ck_products_currency_iso CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT ck_products_price_not_negative CHECK (price_minor >= 0),
    CONSTRAINT ck_products_stock_not_negative CHECK (stock IS NULL OR stock >= 0),
    CONSTRAINT fk_products_category_id_categories FOREIGN KEY(category_id) REFERENCES categories (id) ON DELETE SET NULL,
    CONSTRAINT fk_products_market_id_markets FOREIGN KEY(market_id) REFERENCES markets (id) ON DELETE RESTRICT,
    CONSTRAINT fk_products_producer_id_producers FOREIGN KEY(producer_id) REFERENCES producers (id) ON DELETE RESTRICT,
    CONSTRAINT uq_products_slug UNIQUE (slug)
);

CREATE INDEX ix_products_market_id ON products (market_id);

CREATE INDEX ix_products_producer_id ON products (producer_id);

CREATE TABLE subscriptions (
    id BIGSERIAL NOT NULL,
    newsletter_id BIGINT NOT NULL,
    member_id BIGINT,
    email VARCHAR(254) NOT NULL,
    status VARCHAR(20) DEFAULT 'pending' NOT NULL,
    confirmed_at TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_subscriptions PRIMARY KEY (id),
    CONSTRAINT ck_subscriptions_status_known CHECK (status IN ('pending', 'confirmed', 'unsubscribed')),
    CONSTRAINT fk_subscriptions_member_id_members FOREIGN KEY(member_id) REFERENCES members (id) ON DELETE CASCADE,
    CONSTRAINT fk_subscriptions_newsletter_id_newsletters FOREIGN KEY(newsletter_id) REFERENCES newsletters (id) ON DELETE CASCADE
);

CREATE INDEX ix_subscriptions_member_id ON subscriptions (member_id);

CREATE UNIQUE INDEX uq_subscriptions_newsletter_email ON subscriptions (newsletter_id, lower(email));

CREATE TABLE ap_activities (
    id BIGSERIAL NOT NULL,
    uri TEXT NOT NULL,
    actor_id BIGINT,
    remote_actor_uri TEXT,
    direction VARCHAR(10) NOT NULL,
    activity_type VARCHAR(40) NOT NULL,
    object_uri TEXT,
    payload JSONB NOT NULL,
    state VARCHAR(12) DEFAULT 'pending' NOT NULL,
    attempts INTEGER DEFAULT '0' NOT NULL,
    last_error TEXT,
    next_attempt_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    processed_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT pk_ap_activities PRIMARY KEY (id),
    CONSTRAINT ck_ap_activities_direction_known CHECK (direction IN ('inbound', 'outbound')),
    CONSTRAINT ck_ap_activities_state_known CHECK (state IN ('pending', 'processing', 'done', 'failed')),
    CONSTRAINT ck_ap_activities_attempts_not_negative CHECK (attempts >= 0),
    CONSTRAINT fk_ap_activities_actor_id_ap_actors FOREIGN KEY(actor_id) REFERENCES ap_actors (id) ON DELETE CASCADE,
    CONSTRAINT uq_ap_activities_uri UNIQUE (uri)
);

CREATE INDEX ix_ap_activities_actor_id ON ap_activities (actor_id);

CREATE INDEX ix_ap_activities_pending ON ap_activities (next_attempt_at) WHERE state = 'pending';

CREATE TABLE ap_follows (
    id BIGSERIAL NOT NULL,
    local_actor_id BIGINT NOT NULL,
    remote_actor_uri TEXT NOT NULL,
    remote_inbox TEXT,
    remote_shared_inbox TEXT,
    direction VARCHAR(10) NOT NULL,
    state VARCHAR(10) DEFAULT 'pending' NOT NULL,
    follow_activity_uri TEXT,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_ap_follows PRIMARY KEY (id),
    CONSTRAINT ck_ap_follows_direction_known CHECK (direction IN ('inbound', 'outbound')),
    CONSTRAINT ck_ap_follows_state_known CHECK (state IN ('pending', 'accepted', 'rejected')),
    CONSTRAINT fk_ap_follows_local_actor_id_ap_actors FOREIGN KEY(local_actor_id) REFERENCES ap_actors (id) ON DELETE CASCADE,
    CONSTRAINT uq_ap_follows_local_actor_id_remote_actor_uri_direction UNIQUE (local_actor_id, remote_actor_uri, direction)
);

CREATE TABLE ap_keys (
    id BIGSERIAL NOT NULL,
    actor_id BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    private_key_pem TEXT,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    revoked_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT pk_ap_keys PRIMARY KEY (id),
    CONSTRAINT fk_ap_keys_actor_id_ap_actors FOREIGN KEY(actor_id) REFERENCES ap_actors (id) ON DELETE CASCADE,
    CONSTRAINT uq_ap_keys_key_id UNIQUE (key_id)
);

CREATE INDEX ix_ap_keys_actor_id ON ap_keys (actor_id);

CREATE TABLE ap_objects (
    id BIGSERIAL NOT NULL,
    uri TEXT NOT NULL,
    object_type VARCHAR(40) NOT NULL,
    actor_id BIGINT,
    attributed_to TEXT,
    payload JSONB NOT NULL,
    is_local BOOLEAN DEFAULT 'false' NOT NULL,
    deleted_at TIMESTAMP WITH TIME ZONE,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_ap_objects PRIMARY KEY (id),
    CONSTRAINT fk_ap_objects_actor_id_ap_actors FOREIGN KEY(actor_id) REFERENCES ap_actors (id) ON DELETE CASCADE,
    CONSTRAINT uq_ap_objects_uri UNIQUE (uri)
);

CREATE INDEX ix_ap_objects_actor_id ON ap_objects (actor_id);

CREATE TABLE bookings (
    id BIGSERIAL NOT NULL,
    event_entry_id BIGINT NOT NULL,
    member_id BIGINT NOT NULL,
    seats INTEGER DEFAULT '1' NOT NULL,
    status VARCHAR(20) DEFAULT 'confirmed' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_bookings PRIMARY KEY (id),
    CONSTRAINT ck_bookings_status_known CHECK (status IN ('confirmed', 'waitlisted', 'cancelled')),
    CONSTRAINT ck_bookings_seats_positive CHECK (seats > 0),
    CONSTRAINT fk_bookings_event_entry_id_event_entries FOREIGN KEY(event_entry_id) REFERENCES event_entries (id) ON DELETE CASCADE,
    CONSTRAINT fk_bookings_member_id_members FOREIGN KEY(member_id) REFERENCES members (id) ON DELETE CASCADE,
    CONSTRAINT uq_bookings_event_entry_id_member_id UNIQUE (event_entry_id, member_id)
);

CREATE INDEX ix_bookings_member_id ON bookings (member_id);

CREATE TABLE cart_items (
    id BIGSERIAL NOT NULL,
    cart_id BIGINT NOT NULL,
    product_id BIGINT NOT NULL,
    quantity INTEGER NOT NULL,
    CONSTRAINT pk_cart_items PRIMARY KEY (id),
    CONSTRAINT ck_cart_items_quantity_positive CHECK (quantity > 0),
    CONSTRAINT fk_cart_items_cart_id_carts FOREIGN KEY(cart_id) REFERENCES carts (id) ON DELETE CASCADE,
    CONSTRAINT fk_cart_items_product_id_products FOREIGN KEY(product_id) REFERENCES products (id) ON DELETE CASCADE,
    CONSTRAINT uq_cart_items_cart_id_product_id UNIQUE (cart_id, product_id)
);

CREATE INDEX ix_cart_items_product_id ON cart_items (product_id);

CREATE TABLE order_lines (
    id BIGSERIAL NOT NULL,
    order_id BIGINT NOT NULL,
    product_id BIGINT,
    product_name TEXT NOT NULL,
    unit_price_minor INTEGER NOT NULL,
    currency VARCHAR(3) NOT NULL,
    quantity INTEGER NOT NULL,
    CONSTRAINT pk_order_lines PRIMARY KEY (id),
    CONSTRAINT ck_order_lines_currency_iso CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT ck_order_lines_quantity_positive CHECK (quantity > 0),
    CONSTRAINT ck_order_lines_price_not_negative CHECK (unit_price_minor >= 0),
    CONSTRAINT fk_order_lines_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id) ON DELETE CASCADE,
    CONSTRAINT fk_order_lines_product_id_products FOREIGN KEY(product_id) REFERENCES products (id) ON DELETE SET NULL
);

CREATE INDEX ix_order_lines_order_id ON order_lines (order_id);

CREATE TABLE payments (
    id BIGSERIAL NOT NULL,
    order_id BIGINT NOT NULL,
    provider VARCHAR(30) NOT NULL,
    provider_reference VARCHAR(200) NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency VARCHAR(3) NOT NULL,
    status VARCHAR(20) DEFAULT 'pending' NOT NULL,
    detail TEXT DEFAULT '' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_payments PRIMARY KEY (id),
    CONSTRAINT ck_payments_currency_iso CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT ck_payments_status_known CHECK (status IN ('pending', 'paid', 'failed', 'expired', 'refunded')),
    CONSTRAINT ck_payments_amount_not_negative CHECK (amount_minor >= 0),
    CONSTRAINT fk_payments_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id) ON DELETE RESTRICT,
    CONSTRAINT uq_payments_provider_provider_reference UNIQUE (provider, provider_reference)
);

CREATE INDEX ix_payments_order_id ON payments (order_id);

CREATE TABLE post_authors (
    post_id BIGINT NOT NULL,
    author_id BIGINT NOT NULL,
    sort_order INTEGER DEFAULT '0' NOT NULL,
    CONSTRAINT pk_post_authors PRIMARY KEY (post_id, author_id),
    CONSTRAINT fk_post_authors_author_id_authors FOREIGN KEY(author_id) REFERENCES authors (id) ON DELETE CASCADE,
    CONSTRAINT fk_post_authors_post_id_posts FOREIGN KEY(post_id) REFERENCES posts (id) ON DELETE CASCADE
);

CREATE TABLE tickets (
    id BIGSERIAL NOT NULL,
    event_entry_id BIGINT NOT NULL,
    member_id BIGINT,
    order_id BIGINT,
    code VARCHAR(64) NOT NULL,
    status VARCHAR(20) DEFAULT 'reserved' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_tickets PRIMARY KEY (id),
    CONSTRAINT ck_tickets_status_known CHECK (status IN ('reserved', 'paid', 'checked_in', 'cancelled')),
    CONSTRAINT fk_tickets_event_entry_id_event_entries FOREIGN KEY(event_entry_id) REFERENCES event_entries (id) ON DELETE RESTRICT,
    CONSTRAINT fk_tickets_member_id_members FOREIGN KEY(member_id) REFERENCES members (id) ON DELETE SET NULL,
    CONSTRAINT fk_tickets_order_id_orders FOREIGN KEY(order_id) REFERENCES orders (id) ON DELETE SET NULL,
    CONSTRAINT uq_tickets_code UNIQUE (code)
);

CREATE INDEX ix_tickets_event_entry_id ON tickets (event_entry_id);

CREATE INDEX ix_tickets_member_id ON tickets (member_id);

INSERT INTO alembic_version (version_num) VALUES ('0001') RETURNING alembic_version.version_num;

-- Running upgrade 0001 -> 0002

CREATE TABLE oauth_clients (
    id BIGSERIAL NOT NULL,
    client_id VARCHAR(64) NOT NULL,
    name VARCHAR(100) NOT NULL,
    secret_hash VARCHAR(64),
    redirect_uris TEXT[] NOT NULL,
    post_logout_redirect_uris TEXT[] DEFAULT '{}' NOT NULL,
    backchannel_logout_uri TEXT,
    is_first_party BOOLEAN DEFAULT 'false' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_oauth_clients PRIMARY KEY (id),
    CONSTRAINT ck_oauth_clients_client_id_format CHECK (client_id ~ '^[A-Za-z0-9_-]{1,64}$'),
    CONSTRAINT ck_oauth_clients_secret_hash_format CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT ck_oauth_clients_first_party_is_confidential CHECK (NOT is_first_party OR secret_hash IS NOT NULL),
    CONSTRAINT ck_oauth_clients_has_redirect_uri CHECK (cardinality(redirect_uris) >= 1),
    CONSTRAINT uq_oauth_clients_client_id UNIQUE (client_id)
);

CREATE TABLE oidc_signing_keys (
    id BIGSERIAL NOT NULL,
    kid VARCHAR(100) NOT NULL,
    private_key_pem TEXT NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    retired_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT pk_oidc_signing_keys PRIMARY KEY (id),
    CONSTRAINT uq_oidc_signing_keys_kid UNIQUE (kid)
);

CREATE INDEX ix_oidc_signing_keys_active ON oidc_signing_keys (created_at) WHERE retired_at IS NULL;

CREATE TABLE oauth_authorization_codes (
    id BIGSERIAL NOT NULL,
    code_hash VARCHAR(64) NOT NULL,
    client_pk BIGINT NOT NULL,
    member_id BIGINT NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    code_challenge VARCHAR(128),
    code_challenge_method VARCHAR(10),
    family_id UUID NOT NULL,
    session_sid VARCHAR(64),
    auth_time TIMESTAMP WITH TIME ZONE NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    used_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT pk_oauth_authorization_codes PRIMARY KEY (id),
    CONSTRAINT ck_oauth_authorization_codes_challenge_method_s256 CHECK (code_challenge_method = 'S256'),
    CONSTRAINT ck_oauth_authorization_codes_code_hash_format CHECK (code_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT ck_oauth_authorization_codes_lives_at_most_10_minutes CHECK (expires_at <= created_at + interval '10 minutes'),
    CONSTRAINT ck_oauth_authorization_codes_challenge_complete CHECK ((code_challenge IS NULL) = (code_challenge_method IS NULL)),
    CONSTRAINT fk_oauth_authorization_codes_client_pk_oauth_clients FOREIGN KEY(client_pk) REFERENCES oauth_clients (id) ON DELETE CASCADE,
    CONSTRAINT fk_oauth_authorization_codes_member_id_members FOREIGN KEY(member_id) REFERENCES members (id) ON DELETE CASCADE,
    CONSTRAINT uq_oauth_authorization_codes_code_hash UNIQUE (code_hash),
    CONSTRAINT uq_oauth_authorization_codes_family_id UNIQUE (family_id)
);

CREATE INDEX ix_oauth_authorization_codes_client_pk ON oauth_authorization_codes (client_pk);

CREATE INDEX ix_oauth_authorization_codes_member_id ON oauth_authorization_codes (member_id);

CREATE TABLE oauth_consents (
    id BIGSERIAL NOT NULL,
    member_id BIGINT NOT NULL,
    client_pk BIGINT NOT NULL,
    scope TEXT NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_oauth_consents PRIMARY KEY (id),
    CONSTRAINT fk_oauth_consents_client_pk_oauth_clients FOREIGN KEY(client_pk) REFERENCES oauth_clients (id) ON DELETE CASCADE,
    CONSTRAINT fk_oauth_consents_member_id_members FOREIGN KEY(member_id) REFERENCES members (id) ON DELETE CASCADE,
    CONSTRAINT uq_oauth_consents_member_id_client_pk UNIQUE (member_id, client_pk)
);

CREATE INDEX ix_oauth_consents_client_pk ON oauth_consents (client_pk);

CREATE TABLE oauth_tokens (
    id BIGSERIAL NOT NULL,
    token_hash VARCHAR(64) NOT NULL,
    token_type VARCHAR(10) NOT NULL,
    client_pk BIGINT NOT NULL,
    member_id BIGINT NOT NULL,
    scope TEXT NOT NULL,
    family_id UUID NOT NULL,
    session_sid VARCHAR(64),
    auth_time TIMESTAMP WITH TIME ZONE NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
    rotated_at TIMESTAMP WITH TIME ZONE,
    revoked_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT pk_oauth_tokens PRIMARY KEY (id),
    CONSTRAINT ck_oauth_tokens_token_hash_format CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    CONSTRAINT ck_oauth_tokens_only_refresh_rotates CHECK (token_type = 'refresh' OR rotated_at IS NULL),
    CONSTRAINT ck_oauth_tokens_type_known CHECK (token_type IN ('access', 'refresh')),
    CONSTRAINT ck_oauth_tokens_expires_after_creation CHECK (expires_at > created_at),
    CONSTRAINT fk_oauth_tokens_client_pk_oauth_clients FOREIGN KEY(client_pk) REFERENCES oauth_clients (id) ON DELETE CASCADE,
    CONSTRAINT fk_oauth_tokens_member_id_members FOREIGN KEY(member_id) REFERENCES members (id) ON DELETE CASCADE,
    CONSTRAINT uq_oauth_tokens_token_hash UNIQUE (token_hash)
);

CREATE INDEX ix_oauth_tokens_client_pk ON oauth_tokens (client_pk);

CREATE INDEX ix_oauth_tokens_family_id ON oauth_tokens (family_id);

CREATE INDEX ix_oauth_tokens_member_id ON oauth_tokens (member_id);

UPDATE alembic_version SET version_num='0002' WHERE alembic_version.version_num = '0001';

-- Running upgrade 0002 -> 0003

CREATE TABLE ap_domain_blocks (
    domain TEXT NOT NULL,
    reason TEXT DEFAULT '' NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_ap_domain_blocks PRIMARY KEY (domain),
    CONSTRAINT ck_ap_domain_blocks_domain_lowercase CHECK (domain = lower(domain))
);

CREATE TABLE ap_remote_actors (
    id BIGSERIAL NOT NULL,
    uri TEXT NOT NULL,
    actor_type VARCHAR(40) NOT NULL,
    preferred_username TEXT,
    inbox TEXT,
    shared_inbox TEXT,
    payload JSONB NOT NULL,
    fetched_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_ap_remote_actors PRIMARY KEY (id),
    CONSTRAINT uq_ap_remote_actors_uri UNIQUE (uri)
);

CREATE TABLE ap_remote_keys (
    id BIGSERIAL NOT NULL,
    key_id TEXT NOT NULL,
    actor_uri TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    fetched_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    CONSTRAINT pk_ap_remote_keys PRIMARY KEY (id),
    CONSTRAINT uq_ap_remote_keys_key_id UNIQUE (key_id)
);

CREATE INDEX ix_ap_remote_keys_actor_uri ON ap_remote_keys (actor_uri);

CREATE TABLE ap_deliveries (
    id BIGSERIAL NOT NULL,
    activity_id BIGINT NOT NULL,
    inbox_url TEXT NOT NULL,
    body BYTEA NOT NULL,
    state VARCHAR(10) DEFAULT 'pending' NOT NULL,
    attempts INTEGER DEFAULT '0' NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    next_attempt_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT now() NOT NULL,
    delivered_at TIMESTAMP WITH TIME ZONE,
    CONSTRAINT pk_ap_deliveries PRIMARY KEY (id),
    CONSTRAINT ck_ap_deliveries_state_known CHECK (state IN ('pending', 'done', 'dead')),
    CONSTRAINT ck_ap_deliveries_attempts_not_negative CHECK (attempts >= 0),
    CONSTRAINT fk_ap_deliveries_activity_id_ap_activities FOREIGN KEY(activity_id) REFERENCES ap_activities (id) ON DELETE CASCADE,
    CONSTRAINT uq_ap_deliveries_activity_id_inbox_url UNIQUE (activity_id, inbox_url)
);

CREATE INDEX ix_ap_deliveries_pending ON ap_deliveries (next_attempt_at) WHERE state = 'pending';

ALTER TABLE ap_activities ADD COLUMN recipient_uri TEXT DEFAULT '' NOT NULL;

ALTER TABLE ap_activities ADD COLUMN log_seq BIGINT;

ALTER TABLE ap_activities DROP CONSTRAINT uq_ap_activities_uri;

ALTER TABLE ap_activities ADD CONSTRAINT uq_ap_activities_uri_recipient_uri UNIQUE (uri, recipient_uri);

ALTER TABLE ap_actors ADD COLUMN manually_approves_followers BOOLEAN DEFAULT 'false' NOT NULL;

UPDATE alembic_version SET version_num='0003' WHERE alembic_version.version_num = '0002';

-- Running upgrade 0003 -> 0004

CREATE INDEX ix_ap_objects_attributed_to ON ap_objects (attributed_to);

UPDATE alembic_version SET version_num='0004' WHERE alembic_version.version_num = '0003';

COMMIT;
