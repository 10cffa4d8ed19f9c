-- Open items (Offene Posten). Every ledger entry that lowers an account (an invoice, a fee, a manual debit,
-- a returned direct debit) is an open item; every entry that raises it (a payment, a manual credit, a storno,
-- a top-up) is credit. An allocation settles part of an open item with part of a credit. Allocations are
-- append-only rows: releasing one (a storno of a paid invoice, a returned debit) is a row of its own with the
-- negated amount. So for every account:
--   balance = unallocated credit - open amounts
-- and an invoice's open amount is its gross less what is allocated to its ledger entry.

alter table ledger_entries drop constraint ledger_entries_entry_type_check;
alter table ledger_entries add constraint ledger_entries_entry_type_check
  check (entry_type in ('OPENING_BALANCE', 'INVOICE', 'CORRECTION', 'PAYMENT', 'CREDIT', 'DEBIT', 'TOPUP', 'RETURN', 'FEE'));

alter table invoices drop constraint invoices_status_check;
alter table invoices add constraint invoices_status_check check (status in ('OPEN', 'PARTIAL', 'PAID', 'CANCELLED'));

create table allocations (
  id bigserial primary key,
  account_id bigint not null references accounts,
  -- a ledger entry with a positive amount
  credit_entry_id bigint not null references ledger_entries,
  -- a ledger entry with a negative amount
  debit_entry_id bigint not null references ledger_entries,
  -- positive allocates; negative releases what an earlier row of the same pair allocated
  amount numeric(18, 4) not null check (amount <> 0),
  -- why: ISSUE (credit offset when the invoice was issued), PAYMENT (the invoices a payment named),
  -- SETTLEMENT (oldest open item first), STORNO, RETURN, ASSIGNMENT (a payment assigned afterwards)
  reason text not null check (reason in ('ISSUE', 'PAYMENT', 'SETTLEMENT', 'STORNO', 'RETURN', 'ASSIGNMENT')),
  booking_date date not null,
  created_at timestamptz not null default now(),
  check (credit_entry_id <> debit_entry_id)
);
create index allocations_by_credit on allocations (credit_entry_id);
create index allocations_by_debit on allocations (debit_entry_id);
create index allocations_by_account on allocations (account_id);

create function refuse_allocation_change() returns trigger language plpgsql as $$
begin
  raise exception 'allocations is append-only';
end $$;
create trigger allocations_append_only before update or delete on allocations
  for each row execute function refuse_allocation_change();

-- The open invoices of a project, where a payment looks for its amount: PARTIAL ones too.
drop index if exists invoices_open;
create index invoices_open on invoices (project_id, currency) where status in ('OPEN', 'PARTIAL');

-- A payment that came in UNMATCHED and was assigned by hand afterwards.
alter table payments add column assigned_at timestamptz;

-- Per project: how many days before a direct debit the customer is told of it (pre-notification, at least
-- one; the SEPA rulebook's default is 14), and whether the bank's fee for a returned debit is charged on to
-- the customer.
alter table projects
  add column sepa_pre_notification_days integer not null default 14 check (sepa_pre_notification_days between 1 and 60),
  add column charge_return_fees boolean not null default false;

-- A collection may be made again after the bank returned the earlier one; never twice while one is out.
alter table sepa_collections drop constraint sepa_collections_invoice_id_key;
alter table sepa_collections
  add column end_to_end_id text,
  add column returned_on date,
  add column return_reason text;
create unique index sepa_collections_outstanding on sepa_collections (invoice_id) where returned_on is null;
create index sepa_collections_by_end_to_end on sepa_collections (project_id, end_to_end_id);

-- A mandate the bank reported as unusable (AC04 account closed, AC06 blocked, MD07 debtor deceased): the next
-- export skips the customer with this reason until a new mandate is given.
alter table customers
  add column sepa_mandate_unusable_reason text,
  add column sepa_mandate_unusable_since date;

-- Returned direct debits (Rücklastschriften) from bank statements: once per statement entry. A return whose
-- collection is unknown is kept as UNMATCHED and books nothing.
create table sepa_returns (
  id bigserial primary key,
  project_id bigint not null references projects,
  business_key text not null,
  bank_statement_id bigint references bank_statements,
  outcome text not null check (outcome in ('RETURNED', 'UNMATCHED')),
  sepa_collection_id bigint references sepa_collections,
  end_to_end_id text,
  mandate_reference text,
  reason_code text,
  amount numeric(18, 4) not null check (amount > 0),
  currency char(3) not null,
  fee numeric(18, 4) not null default 0 check (fee >= 0),
  booking_date date not null,
  return_entry_id bigint references ledger_entries,
  fee_entry_id bigint references ledger_entries,
  created_at timestamptz not null default now(),
  unique (project_id, business_key),
  check ((outcome = 'RETURNED') = (sepa_collection_id is not null))
);
