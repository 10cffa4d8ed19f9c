-- Incoming payments: bank statements (camt.053 or CSV), the payments they hold, and which invoices each
-- payment settled. A payment is booked once per business key (the bank's reference of the booking, else a
-- hash of its place in the statement and its fields), so importing a statement twice books nothing twice.

create table bank_statements (
  id bigserial primary key,
  project_id bigint not null references projects,
  -- The file itself: camt's message id with the account, or the hash of a CSV file.
  statement_key text not null,
  format text not null check (format in ('camt.053.001.02', 'camt.053.001.08', 'csv')),
  message_id text,
  account_iban text,
  imported_at timestamptz not null default now(),
  unique (project_id, statement_key)
);

create table payments (
  id bigserial primary key,
  project_id bigint not null references projects,
  business_key text not null,
  -- The statement that brought the payment first; null for a payment posted on its own.
  bank_statement_id bigint references bank_statements,
  booking_date date not null,
  value_date date,
  amount numeric(18, 4) not null check (amount > 0),
  currency char(3) not null,
  reference text not null default '',
  payer_name text,
  payer_iban text,
  end_to_end_id text,
  bank_reference text,
  outcome text not null check (outcome in ('MATCHED', 'PARTIAL', 'CREDIT', 'UNMATCHED')),
  -- Null exactly for UNMATCHED: such a payment is stored and reported, but booked on no account.
  account_id bigint references accounts,
  ledger_entry_id bigint unique references ledger_entries,
  amount_applied numeric(18, 4) not null check (amount_applied >= 0),
  credit_booked numeric(18, 4) not null check (credit_booked >= 0),
  reason text not null,
  created_at timestamptz not null default now(),
  unique (project_id, business_key),
  check ((outcome = 'UNMATCHED') = (account_id is null)),
  check ((account_id is null) = (ledger_entry_id is null)),
  check (amount_applied + credit_booked = case when outcome = 'UNMATCHED' then 0 else amount end)
);
create index payments_by_statement on payments (bank_statement_id);

-- The part of a payment applied to one invoice. An invoice is PAID when its allocations reach its amount due.
create table payment_allocations (
  payment_id bigint not null references payments,
  invoice_id bigint not null references invoices,
  amount numeric(18, 4) not null check (amount > 0),
  primary key (payment_id, invoice_id)
);
create index payment_allocations_by_invoice on payment_allocations (invoice_id);

-- The day an invoice was settled by payments; status PAID is set in the same transaction.
alter table invoices add column paid_on date;

-- Open invoices by project and currency: where a payment without invoice number looks for its amount.
create index invoices_open on invoices (project_id, currency) where status = 'OPEN';
-- Customers by IBAN: which customer a payment came from.
create index customers_iban on customers (project_id, upper(replace(iban, ' ', ''))) where iban is not null;
