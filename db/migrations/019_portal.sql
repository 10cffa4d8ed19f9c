-- The customer center (Kundencenter): sign-in links, sessions, SEPA mandates signed by the customer, and
-- terminations received through the cancellation button (§ 312k BGB). Secrets are stored as SHA-256 hashes
-- only: a copy of the database signs nobody in.

-- The key that signs sign-in tokens (HMAC-SHA256): 244 random bits from two version-4 UUIDs (PostgreSQL draws
-- them from its strong random source). A token must carry a valid signature before its hash is looked up; the
-- key alone signs nobody in, since a token is good only while its hash is stored unused and unexpired.
create table portal_signing_secret (
  id integer primary key check (id = 1),
  secret text not null
);
insert into portal_signing_secret (id, secret) values (1, replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));

-- A single-use sign-in link: mailed to the customer (MAIL) or handed to an operator (OPERATOR).
create table portal_sign_in_links (
  id bigserial primary key,
  project_id bigint not null references projects,
  customer_id bigint not null references customers,
  token_hash text not null unique,
  issued_by text not null check (issued_by in ('MAIL', 'OPERATOR')),
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index portal_sign_in_links_by_customer on portal_sign_in_links (customer_id, created_at);

-- A signed-in customer. The CSRF token is compared with the hidden field of every form the session posts.
create table portal_sessions (
  id bigserial primary key,
  project_id bigint not null references projects,
  customer_id bigint not null references customers,
  session_hash text not null unique,
  csrf_token text not null,
  sign_in_link_id bigint not null unique references portal_sign_in_links,
  expires_at timestamptz not null,
  ended_at timestamptz,
  created_at timestamptz not null default now()
);

-- A SEPA mandate the customer gave by a click: the text shown, to which creditor, from where and when.
create table portal_mandate_signatures (
  id bigserial primary key,
  project_id bigint not null references projects,
  customer_id bigint not null references customers,
  mandate_reference text not null,
  iban text not null,
  account_holder text not null,
  creditor_id text not null,
  mandate_text text not null,
  signed_at timestamptz not null default now(),
  signed_on date not null,
  ip_address text not null,
  user_agent text,
  -- the form's submission key: a form posted twice gives one mandate
  submission_key text not null,
  unique (project_id, mandate_reference),
  unique (project_id, submission_key)
);

-- A termination received through the cancellation button, with or without sign-in. RECEIVED: written before
-- anything else happens, so that the time of receipt is kept whatever follows. TERMINATED: the data identified
-- one running contract, whose workflow fixed its end date. RECORDED: kept for the operator (the data identified
-- no contract, the termination is extraordinary, or the contract refused it) and confirmed as received.
create table portal_terminations (
  id bigserial primary key,
  project_id bigint not null references projects,
  -- the form's submission key: a form posted twice is one termination
  submission_key text not null,
  received_at timestamptz not null default now(),
  customer_name text not null,
  email text,
  customer_number text,
  contract_number text not null,
  kind text not null check (kind in ('ORDINARY', 'EXTRAORDINARY')),
  requested_end_date date,
  reason text,
  ip_address text,
  customer_id bigint references customers,
  contract_id bigint references contracts,
  outcome text not null default 'RECEIVED' check (outcome in ('RECEIVED', 'TERMINATED', 'RECORDED')),
  end_date date,
  note text,
  unique (project_id, submission_key)
);
create index portal_terminations_recorded on portal_terminations (project_id, received_at) where outcome <> 'TERMINATED';
