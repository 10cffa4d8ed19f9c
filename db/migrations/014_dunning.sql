-- Dunning (Mahnwesen). Every overdue invoice is dunned by a workflow of its own (dunning-<projectId>-<invoice>):
-- a payment reminder, then a first and a second dunning, each a number of days after the due date, each with
-- its fee and text. From a configured level on, the customer's contracts pause until the invoice is paid.

-- The three levels of a project. A project without rows here dunns by the defaults in operations/dunning.ts
-- (reminder after 7 days, 1st dunning after 21 days with 5.00, 2nd dunning after 35 days with 10.00).
create table dunning_levels (
  project_id bigint not null references projects,
  -- 1 payment reminder (Zahlungserinnerung), 2 first dunning (1. Mahnung), 3 second dunning (2. Mahnung)
  level integer not null check (level between 1 and 3),
  days_after_due integer not null check (days_after_due between 1 and 365),
  fee numeric(18, 4) not null check (fee >= 0),
  -- the days the letter gives the customer to pay ("innerhalb von … Tagen")
  deadline_days integer not null check (deadline_days between 1 and 90),
  text text not null,
  primary key (project_id, level)
);

-- Per project: from which level the customer's contracts pause (status PAUSED, pause reason DUNNING); null: never.
-- Default interest (Verzugszinsen, § 288 BGB), off unless enabled: the base rate (Basiszinssatz, § 247 BGB, in
-- percent as the Bundesbank publishes it) plus 5 points for consumers or 9 points for businesses, from the due date.
create table dunning_settings (
  project_id bigint primary key references projects,
  pause_from_level integer check (pause_from_level between 1 and 3),
  interest_enabled boolean not null default false,
  interest_base_rate numeric(7, 4) not null default 0 check (interest_base_rate between -20 and 20)
);

-- The dunning process of an invoice: its workflow, and a stop by the operator. A row exists once the workflow
-- was started (or the operator stopped dunning before it was): the worker's round starts the workflows of open
-- invoices without a row, so an invoice is dunned by one workflow at a time. An invoice whose dunning ended
-- PAID and that is open again (the bank returned the direct debit that paid it) is dunned in a new round, by a
-- workflow of its own (dunning-<projectId>-<invoice>-<round> from round 2 on).
create table dunning_processes (
  invoice_id bigint primary key references invoices,
  project_id bigint not null references projects,
  workflow_id text not null,
  round integer not null default 1 check (round >= 1),
  started_at timestamptz,
  stopped_at timestamptz,
  -- why the process ended: PAID, CANCELLED or STOPPED; null while it runs
  end_reason text check (end_reason in ('PAID', 'CANCELLED', 'STOPPED')),
  ended_at timestamptz
);
create index dunning_processes_running on dunning_processes (project_id) where end_reason is null;

-- The letters sent, once per invoice and level: a retried activity finds its notice here and books nothing twice.
create table dunning_notices (
  id bigserial primary key,
  project_id bigint not null references projects,
  invoice_id bigint not null references invoices,
  account_id bigint not null references accounts,
  level integer not null check (level between 1 and 3),
  notice_date date not null,
  -- the level's fee, booked as a FEE ledger entry (business key dunning-fee:<invoice>:<level>) when not zero
  fee numeric(18, 4) not null check (fee >= 0),
  fee_entry_id bigint references ledger_entries,
  -- default interest on the invoice's open amount since the due date or the last letter, booked as a FEE entry
  -- (business key dunning-interest:<invoice>:<level>) when not zero
  interest numeric(18, 4) not null default 0 check (interest >= 0),
  interest_entry_id bigint references ledger_entries,
  deadline_date date not null,
  -- the open items of the account as the letter lists them (the fee included), and their sum
  open_items jsonb not null,
  total_open numeric(18, 4) not null,
  pauses_contracts boolean not null,
  created_at timestamptz not null default now(),
  unique (invoice_id, level)
);
create index dunning_notices_by_project on dunning_notices (project_id, id);
create index dunning_notices_by_account on dunning_notices (account_id) where pauses_contracts;
