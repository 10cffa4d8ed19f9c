-- Webhooks: endpoints a project registers, the events the books emit for them (an outbox), one delivery per
-- event and endpoint, and every attempt to deliver it.
--
-- The events are written by triggers on the tables that record the facts, in the same transaction as the
-- fact: a rolled-back invoice, payment or status change leaves no event behind, and a committed one always
-- has its event, whichever operation wrote it. An event is written only when an endpoint of the project
-- wants its type, and fans out at once to one delivery per such endpoint (unique per event and endpoint), so
-- each event reaches each endpoint under one stable id however often it is tried.

create table webhook_endpoints (
  id bigserial primary key,
  project_id bigint not null references projects,
  url text not null,
  event_types text[] not null check (cardinality(event_types) > 0),
  -- whsec_ + base64 of the key bytes (Standard Webhooks); kept in clear since every delivery is signed with it
  secret text not null,
  description text,
  created_at timestamptz not null default now(),
  -- a deleted endpoint gets no new deliveries and its pending ones are not tried again
  deleted_at timestamptz
);
create index webhook_endpoints_of_project on webhook_endpoints (project_id) where deleted_at is null;

create table webhook_events (
  id bigserial primary key,
  -- the webhook-id of every delivery of the event: evt_<uuid without dashes>
  public_id text not null unique,
  project_id bigint not null references projects,
  event_type text not null,
  -- deliveries of one contract's events go out in the order of their ids, which is the order their
  -- transactions committed in (webhook_emit)
  contract_number text,
  payload jsonb not null,
  created_at timestamptz not null default now()
);

create table webhook_deliveries (
  id bigserial primary key,
  project_id bigint not null references projects,
  event_id bigint not null references webhook_events,
  endpoint_id bigint not null references webhook_endpoints,
  -- the contract number, or the event's own id for events of no contract (they wait for nothing)
  ordering_key text not null,
  status text not null default 'PENDING' check (status in ('PENDING', 'DELIVERED', 'FAILED')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  -- retries with backoff until then; after it a failed attempt leaves the delivery FAILED
  retry_until timestamptz not null default now() + interval '1 day',
  -- when a worker's reconciler last told the endpoint's dispatcher workflow about the delivery (null: not yet)
  signalled_at timestamptz,
  last_attempt_at timestamptz,
  last_response_status integer,
  last_error text,
  delivered_at timestamptz,
  created_at timestamptz not null default now(),
  unique (event_id, endpoint_id)
);
create index webhook_deliveries_pending on webhook_deliveries (endpoint_id, id) where status = 'PENDING';
create index webhook_deliveries_unsignalled on webhook_deliveries (endpoint_id) where status = 'PENDING' and signalled_at is null;
create index webhook_deliveries_of_project on webhook_deliveries (project_id, id);

create table webhook_delivery_attempts (
  id bigserial primary key,
  delivery_id bigint not null references webhook_deliveries,
  attempt integer not null,
  attempted_at timestamptz not null,
  duration_ms integer not null,
  -- the HTTP status of the answer; null when none came (refused, timed out, address not allowed)
  response_status integer,
  error text,
  succeeded boolean not null,
  unique (delivery_id, attempt)
);

-- Writes one event and its deliveries, if any endpoint of the project wants the type.
create function webhook_emit(p_project_id bigint, p_type text, p_contract_number text, p_payload jsonb) returns void
language plpgsql as $$
declare
  v_id bigint;
begin
  if not exists (
    select 1 from webhook_endpoints
    where project_id = p_project_id and deleted_at is null and p_type = any (event_types)
  ) then
    return;
  end if;
  -- A contract's events take their ids one transaction at a time, held until the commit: an event never gets
  -- a smaller id than one of its contract that committed before it, so a reader that sees an event of the
  -- contract sees every earlier one, and id order is the order of the facts.
  if p_contract_number is not null then
    perform pg_advisory_xact_lock(hashtextextended('webhook-order:' || p_project_id || ':' || p_contract_number, 0));
  end if;
  v_id := nextval(pg_get_serial_sequence('webhook_events', 'id'));
  insert into webhook_events (id, public_id, project_id, event_type, contract_number, payload)
  values (v_id, 'evt_' || replace(gen_random_uuid()::text, '-', ''), p_project_id, p_type, p_contract_number, p_payload);
  insert into webhook_deliveries (project_id, event_id, endpoint_id, ordering_key)
  select p_project_id, v_id, e.id, coalesce(p_contract_number, 'event:' || v_id)
  from webhook_endpoints e
  where e.project_id = p_project_id and e.deleted_at is null and p_type = any (e.event_types);
end $$;

-- Invoices: an invoice is written under a provisional number (~…) and gets its number in the same
-- transaction; it is created when it has its number. It is PAID at issue when credit covers it.
create function webhook_invoice_payload(p_invoice invoices) returns jsonb
language sql stable as $$
  select jsonb_build_object(
    'invoiceNumber', p_invoice.invoice_number,
    'contractNumber', c.contract_number,
    'customerNumber', cu.customer_number,
    'invoiceDate', p_invoice.invoice_date::text,
    'dueDate', p_invoice.due_date::text,
    'status', p_invoice.status,
    'currency', p_invoice.currency,
    'netTotal', round(p_invoice.net_total, 2)::text,
    'taxTotal', round(p_invoice.tax_total, 2)::text,
    'grossTotal', round(p_invoice.gross_total, 2)::text,
    'amountDue', round(p_invoice.amount_due, 2)::text,
    'paidOn', p_invoice.paid_on::text)
  from contracts c join customers cu on cu.id = p_invoice.customer_id
  where c.id = p_invoice.contract_id
$$;

create function webhook_invoice_events() returns trigger
language plpgsql as $$
declare
  v_contract_number text;
  v_payload jsonb;
  v_numbered_now boolean;
begin
  if new.invoice_number like '~%' then
    return null;
  end if;
  v_numbered_now := tg_op = 'INSERT' or old.invoice_number like '~%';
  if not v_numbered_now and old.status is not distinct from new.status then
    return null;
  end if;
  select contract_number into v_contract_number from contracts where id = new.contract_id;
  v_payload := webhook_invoice_payload(new);
  if v_numbered_now then
    perform webhook_emit(new.project_id, 'INVOICE_CREATED', v_contract_number, v_payload);
  end if;
  if new.status = 'PAID' and (v_numbered_now or old.status <> 'PAID') then
    perform webhook_emit(new.project_id, 'INVOICE_PAID', v_contract_number, v_payload);
  elsif new.status = 'CANCELLED' and not v_numbered_now then
    perform webhook_emit(new.project_id, 'INVOICE_CANCELLED', v_contract_number, v_payload);
  end if;
  return null;
end $$;
create trigger invoices_webhook_insert after insert on invoices
  for each row execute function webhook_invoice_events();
create trigger invoices_webhook_update after update of invoice_number, status on invoices
  for each row execute function webhook_invoice_events();

-- Contracts: created; paused (from any other status); resumed (from PAUSED to running); terminated (an end
-- date recorded); ended.
create function webhook_contract_events() returns trigger
language plpgsql as $$
declare
  v_payload jsonb;
begin
  v_payload := jsonb_build_object(
    'contractNumber', new.contract_number,
    'customerNumber', (select customer_number from customers where id = new.customer_id),
    'status', new.status,
    'pauseReason', new.pause_reason,
    'startDate', new.start_date::text,
    'endDate', new.end_date::text,
    'nextBillingDate', new.next_billing_date::text);
  if tg_op = 'INSERT' then
    perform webhook_emit(new.project_id, 'CONTRACT_CREATED', new.contract_number, v_payload);
    return null;
  end if;
  if new.status = 'PAUSED' and old.status <> 'PAUSED' then
    perform webhook_emit(new.project_id, 'CONTRACT_PAUSED', new.contract_number, v_payload);
  elsif old.status = 'PAUSED' and new.status in ('ACTIVE', 'TERMINATED') then
    perform webhook_emit(new.project_id, 'CONTRACT_RESUMED', new.contract_number, v_payload);
  end if;
  if new.end_date is not null and new.end_date is distinct from old.end_date then
    perform webhook_emit(new.project_id, 'CONTRACT_TERMINATED', new.contract_number, v_payload);
  end if;
  if new.status = 'ENDED' and old.status <> 'ENDED' then
    perform webhook_emit(new.project_id, 'CONTRACT_ENDED', new.contract_number, v_payload);
  end if;
  return null;
end $$;
create trigger contracts_webhook_insert after insert on contracts
  for each row execute function webhook_contract_events();
create trigger contracts_webhook_update after update of status, end_date on contracts
  for each row execute function webhook_contract_events();

-- Payments: one that matched nothing and no one (stored, booked on no account, waiting to be assigned).
create function webhook_payment_events() returns trigger
language plpgsql as $$
begin
  if new.outcome = 'UNMATCHED' then
    perform webhook_emit(new.project_id, 'PAYMENT_UNMATCHED', null, jsonb_build_object(
      'paymentId', new.id::text,
      'bookingDate', new.booking_date::text,
      'amount', round(new.amount, 2)::text,
      'currency', new.currency,
      'reference', new.reference,
      'payerName', new.payer_name,
      'payerIban', new.payer_iban,
      'reason', new.reason));
  end if;
  return null;
end $$;
create trigger payments_webhook_insert after insert on payments
  for each row execute function webhook_payment_events();

-- Dunning: a letter of a level was sent for an invoice.
create function webhook_dunning_events() returns trigger
language plpgsql as $$
declare
  v_invoice_number text;
  v_contract_number text;
begin
  select i.invoice_number, c.contract_number into v_invoice_number, v_contract_number
  from invoices i join contracts c on c.id = i.contract_id where i.id = new.invoice_id;
  perform webhook_emit(new.project_id, 'DUNNING_LEVEL_REACHED', v_contract_number, jsonb_build_object(
    'invoiceNumber', v_invoice_number,
    'contractNumber', v_contract_number,
    'level', new.level,
    'noticeDate', new.notice_date::text,
    'deadlineDate', new.deadline_date::text,
    'fee', round(new.fee, 2)::text,
    'totalOpen', round(new.total_open, 2)::text,
    'pausesContracts', new.pauses_contracts));
  return null;
end $$;
create trigger dunning_notices_webhook_insert after insert on dunning_notices
  for each row execute function webhook_dunning_events();

-- Mails: an attempt the SMTP server refused (each failed attempt, with the count of attempts so far).
create function webhook_mail_events() returns trigger
language plpgsql as $$
begin
  if new.status = 'FAILED' and (tg_op = 'INSERT' or old.status <> 'FAILED') then
    perform webhook_emit(new.project_id, 'MAIL_FAILED', null, jsonb_build_object(
      'kind', new.kind,
      'businessKey', new.business_key,
      'recipient', new.recipient,
      'subject', new.subject,
      'error', new.error,
      'attempts', new.attempts));
  end if;
  return null;
end $$;
create trigger mail_log_webhook_insert after insert on mail_log
  for each row execute function webhook_mail_events();
create trigger mail_log_webhook_update after update of status on mail_log
  for each row execute function webhook_mail_events();
