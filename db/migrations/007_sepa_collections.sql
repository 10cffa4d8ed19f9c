-- SEPA direct debit files (pain.008) and the invoices each one collects. An invoice is collected at most once:
-- a second export skips it. A mandate's first collection goes as FRST, every later one as RCUR, which is read
-- from the collections already made under the mandate reference.

create table sepa_messages (
  id bigserial primary key,
  project_id bigint not null references projects,
  -- pain.008 GrpHdr/MsgId: unique per creditor
  message_id text not null,
  -- the client's Idempotency-Key: a repeated request gets the first file back and collects nothing again
  request_key text,
  collection_date date not null,
  number_of_transactions integer not null check (number_of_transactions > 0),
  control_sum numeric(18, 2) not null check (control_sum > 0),
  document text not null,
  -- what the answer listed: the debits and the invoices skipped with their reasons
  summary jsonb not null,
  created_at timestamptz not null default now(),
  unique (project_id, message_id),
  unique (project_id, request_key)
);

create table sepa_collections (
  id bigserial primary key,
  project_id bigint not null references projects,
  invoice_id bigint not null unique references invoices,
  sepa_message_id bigint not null references sepa_messages,
  mandate_reference text not null,
  sequence_type text not null check (sequence_type in ('FRST', 'RCUR')),
  amount numeric(18, 2) not null check (amount > 0),
  created_at timestamptz not null default now()
);
create index sepa_collections_by_mandate on sepa_collections (project_id, mandate_reference);
