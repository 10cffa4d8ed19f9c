-- The books of the engine. Money is NUMERIC, business dates are DATE, periods are half-open [start, end).
-- Every external effect has a business key with a unique constraint, so that a retried activity or a
-- replayed workflow finds its earlier work instead of doing it twice.

create table projects (
  id bigserial primary key,
  name text not null unique,
  time_zone text not null default 'Europe/Berlin',
  created_at timestamptz not null default now()
);

create table api_keys (
  id bigserial primary key,
  project_id bigint not null references projects,
  key_hash text not null unique,
  key_prefix text not null,
  label text,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);

-- Gap-free numbering: the counter row is updated in the transaction that uses the number, so a rollback
-- gives the number back and concurrent issuers queue on the row lock.
create table number_ranges (
  project_id bigint not null references projects,
  kind text not null,
  year integer not null,
  last_value bigint not null,
  primary key (project_id, kind, year)
);

create table customers (
  id bigserial primary key,
  project_id bigint not null references projects,
  customer_number text not null,
  salutation text,
  first_name text,
  last_name text,
  company_name text,
  email text,
  locale text not null default 'de',
  eu_tax_id text,
  tax_number text,
  tax_region text not null default 'NATIONAL' check (tax_region in ('NATIONAL', 'EU', 'THIRD_COUNTRY')),
  address_line1 text,
  address_line2 text,
  zip_code text,
  city_name text,
  country text,
  due_period integer not null default 14,
  due_unit text not null default 'DAY' check (due_unit in ('DAY', 'WEEK', 'MONTH')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (project_id, customer_number)
);

create table accounts (
  id bigserial primary key,
  project_id bigint not null references projects,
  account_number text not null,
  customer_id bigint not null references customers,
  name text not null,
  type text not null check (type in ('PREPAID', 'POSTPAID')),
  currency char(3) not null,
  credit_limit numeric(18, 4) not null default 0 check (credit_limit >= 0),
  minimum_top_up numeric(18, 4) not null default 0 check (minimum_top_up >= 0),
  created_at timestamptz not null default now(),
  unique (project_id, account_number)
);

create table tax_groups (
  code text primary key,
  name text not null,
  kind text not null check (kind in ('STANDARD', 'SMALL_BUSINESS'))
);

create table tax_rates (
  tax_group_code text not null references tax_groups,
  rate numeric(7, 4) not null,
  valid_from date,
  unique nulls not distinct (tax_group_code, valid_from)
);

insert into tax_groups (code, name, kind) values
  ('DE_STANDARD', 'Deutschland / Regelsteuersatz', 'STANDARD'),
  ('DE_REDUCED', 'Deutschland / ermäßigter Steuersatz', 'STANDARD'),
  ('DE_SMALL_BUSINESS', 'Deutschland / Steuerfrei (Kleinunternehmer)', 'SMALL_BUSINESS');

insert into tax_rates (tax_group_code, rate, valid_from) values
  ('DE_STANDARD', 19, null),
  ('DE_STANDARD', 16, '2020-07-01'),
  ('DE_STANDARD', 19, '2021-01-01'),
  ('DE_REDUCED', 7, null),
  ('DE_REDUCED', 5, '2020-07-01'),
  ('DE_REDUCED', 7, '2021-01-01'),
  ('DE_SMALL_BUSINESS', 0, null);

create table product_groups (
  id bigserial primary key,
  project_id bigint not null references projects,
  code text not null,
  name text not null,
  tax_group_code text not null references tax_groups,
  revenue_account text,
  created_at timestamptz not null default now(),
  unique (project_id, code)
);

create table items (
  id bigserial primary key,
  project_id bigint not null references projects,
  item_number text not null,
  name text not null,
  unit text not null check (unit in ('DAY', 'WEEK', 'MONTH', 'YEAR', 'PIECE')),
  product_group_id bigint not null references product_groups,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (project_id, item_number)
);

create table item_prices (
  id bigserial primary key,
  item_id bigint not null references items on delete cascade,
  price numeric(18, 4) not null,
  currency char(3) not null,
  min_quantity numeric(18, 4) not null default 0,
  valid_from date,
  unique nulls not distinct (item_id, currency, min_quantity, valid_from)
);

create table contracts (
  id bigserial primary key,
  project_id bigint not null references projects,
  contract_number text not null,
  customer_id bigint not null references customers,
  account_id bigint not null references accounts,
  currency char(3) not null,
  start_date date not null,
  interval_count integer not null check (interval_count > 0),
  interval_unit text not null check (interval_unit in ('DAY', 'WEEK', 'MONTH', 'YEAR')),
  invoice_in_advance boolean not null,
  extension_count integer,
  extension_unit text,
  minimum_term_count integer,
  minimum_term_unit text,
  notice_count integer,
  notice_unit text,
  billed_until date,
  end_date date,
  status text not null default 'ACTIVE' check (status in ('ACTIVE', 'PAUSED', 'TERMINATED', 'ENDED')),
  pause_reason text,
  next_billing_date date,
  created_at timestamptz not null default now(),
  unique (project_id, contract_number)
);

create table subscription_lines (
  id bigserial primary key,
  contract_id bigint not null references contracts,
  item_id bigint not null references items,
  quantity numeric(18, 4) not null check (quantity > 0),
  billing_from date,
  valid_from date not null,
  valid_until date,
  check (valid_until is null or valid_until > valid_from)
);

create table delivery_pauses (
  id bigserial primary key,
  contract_id bigint not null references contracts,
  from_date date not null,
  until_date date not null,
  item_numbers text[],
  created_at timestamptz not null default now(),
  check (until_date > from_date)
);

create table invoices (
  id bigserial primary key,
  project_id bigint not null references projects,
  invoice_number text not null,
  contract_id bigint not null references contracts,
  customer_id bigint not null references customers,
  account_id bigint not null references accounts,
  -- The billing run that produced the invoice: a retried or replayed run finds it here.
  billing_run_key text not null,
  invoice_date date not null,
  due_date date not null,
  status text not null default 'OPEN' check (status in ('OPEN', 'PAID', 'CANCELLED')),
  currency char(3) not null,
  net_total numeric(18, 4) not null,
  tax_total numeric(18, 4) not null,
  gross_total numeric(18, 4) not null,
  credit_applied numeric(18, 4) not null,
  amount_due numeric(18, 4) not null,
  notices text[] not null default '{}',
  created_at timestamptz not null default now(),
  unique (project_id, invoice_number),
  unique (contract_id, billing_run_key)
);

create table activities (
  id bigserial primary key,
  contract_id bigint not null references contracts,
  activity_key text not null,
  item_number text not null,
  description text not null,
  quantity numeric(18, 4) not null,
  unit_price numeric(18, 4) not null,
  amount numeric(18, 4) not null,
  period_start date not null,
  period_end date not null,
  origin text not null check (origin in ('SUBSCRIPTION', 'MANUAL', 'CREDIT', 'PRORATION')),
  due_date date not null,
  tax_category text not null,
  tax_rate numeric(7, 4) not null,
  tax_notice text,
  corrects_key text,
  invoice_id bigint references invoices,
  -- Set when a re-billing releases the activity (its invoice was cancelled) or a change made it obsolete.
  superseded_at timestamptz,
  created_at timestamptz not null default now(),
  check (period_end > period_start)
);
create unique index activities_business_key on activities (contract_id, activity_key) where superseded_at is null;
create index activities_unbilled on activities (contract_id) where invoice_id is null and superseded_at is null;

create table activity_deletions (
  id bigserial primary key,
  contract_id bigint not null references contracts,
  activity_id bigint not null,
  activity jsonb not null,
  reason text not null,
  deleted_at timestamptz not null default now()
);

create table invoice_lines (
  invoice_id bigint not null references invoices,
  position integer not null,
  activity_id bigint not null references activities,
  item_number text not null,
  description text not null,
  quantity numeric(18, 4) not null,
  unit_price numeric(18, 4) not null,
  net_amount numeric(18, 4) not null,
  period_start date not null,
  period_end date not null,
  tax_category text not null,
  tax_rate numeric(7, 4) not null,
  primary key (invoice_id, position)
);

create table invoice_taxes (
  invoice_id bigint not null references invoices,
  tax_category text not null,
  rate numeric(7, 4) not null,
  net numeric(18, 4) not null,
  tax numeric(18, 4) not null,
  primary key (invoice_id, tax_category, rate)
);

-- A storno: the exact negation of one invoice. One per invoice, enforced here.
create table invoice_corrections (
  id bigserial primary key,
  project_id bigint not null references projects,
  correction_number text not null,
  invoice_id bigint not null unique references invoices,
  correction_date date not null,
  net_total numeric(18, 4) not null,
  tax_total numeric(18, 4) not null,
  gross_total numeric(18, 4) not null,
  reason text,
  created_at timestamptz not null default now(),
  unique (project_id, correction_number)
);

-- The account ledger is append-only: the balance is its sum, and nothing else stores it.
create table ledger_entries (
  id bigserial primary key,
  account_id bigint not null references accounts,
  entry_type text not null check (entry_type in ('OPENING_BALANCE', 'INVOICE', 'CORRECTION', 'PAYMENT', 'CREDIT', 'DEBIT', 'TOPUP')),
  -- Positive raises the customer's credit (payments, stornos), negative lowers it (invoices).
  amount numeric(18, 4) not null,
  booking_date date not null,
  text text not null,
  invoice_id bigint references invoices,
  correction_id bigint references invoice_corrections,
  business_key text not null,
  created_at timestamptz not null default now(),
  unique (account_id, business_key)
);

create function refuse_ledger_change() returns trigger language plpgsql as $$
begin
  raise exception 'ledger_entries is append-only';
end $$;
create trigger ledger_entries_append_only before update or delete on ledger_entries
  for each row execute function refuse_ledger_change();

create table mail_log (
  id bigserial primary key,
  project_id bigint not null references projects,
  kind text not null,
  business_key text not null,
  recipient text not null,
  subject text not null,
  status text not null default 'PENDING' check (status in ('PENDING', 'SENT', 'FAILED')),
  error text,
  attempts integer not null default 0,
  message_id text,
  sent_at timestamptz,
  created_at timestamptz not null default now(),
  unique (project_id, kind, business_key)
);
