-- The end-to-end id a collection carried in its pain.008 (EndToEndId): the bank names it again on the
-- statement that credits the collection and on a return, so it identifies one collection of one project.
-- Collections made before this migration carried the invoice number.
update sepa_collections s set end_to_end_id = i.invoice_number
from invoices i where i.id = s.invoice_id and s.end_to_end_id is null;
alter table sepa_collections alter column end_to_end_id set not null;
drop index sepa_collections_by_end_to_end;
create unique index sepa_collections_end_to_end on sepa_collections (project_id, end_to_end_id);

-- The pre-notification (Vorabankündigung) an invoice gave when it was issued to a customer with a usable
-- mandate: the day and amount of the direct debit, the mandate and the account debited, as the invoice's
-- document and mail say them. Recorded once with the invoice and never changed, so that the document reads
-- the same whenever it is rendered, and a direct debit is never made before the day announced.
create table sepa_pre_notifications (
  invoice_id bigint primary key references invoices,
  collection_date date not null,
  amount numeric(18, 4) not null check (amount > 0),
  mandate_reference text not null,
  debtor_iban text not null,
  created_at timestamptz not null default now()
);

-- An invoice's collections, returned ones included (the next one's end-to-end id counts them), and an
-- invoice's ledger entries (what is open on it is read from the allocations on its INVOICE entry): both are
-- looked up per invoice by the SEPA export, for every invoice it collects.
create index sepa_collections_by_invoice on sepa_collections (invoice_id);
create index if not exists ledger_entries_by_invoice on ledger_entries (invoice_id) where invoice_id is not null;
