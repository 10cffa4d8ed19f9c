-- The issuing company of each project (the seller on every invoice, the creditor of every direct debit)
-- and the customers' bank details with their SEPA mandates.

create table project_companies (
  project_id bigint primary key references projects,
  legal_name text not null,
  address_line1 text not null,
  address_line2 text,
  zip_code text not null,
  city_name text not null,
  country char(2) not null default 'DE',
  -- § 14 UStG asks for the VAT id or the tax number; EN 16931 (BR-CO-26) for one of them on every invoice.
  vat_id text,
  tax_number text,
  contact_name text,
  email text not null,
  phone text not null,
  iban text,
  bic text,
  bank_name text,
  -- Gläubiger-Identifikationsnummer for SEPA direct debits.
  sepa_creditor_id text,
  updated_at timestamptz not null default now(),
  check (vat_id is not null or tax_number is not null)
);

alter table customers
  add column iban text,
  add column bic text,
  add column sepa_mandate_reference text,
  add column sepa_mandate_signed_on date,
  -- BT-10 of an e-invoice: a public buyer's Leitweg-ID, else empty (the customer number stands in).
  add column buyer_reference text,
  add constraint customers_mandate_complete check ((sepa_mandate_reference is null) = (sepa_mandate_signed_on is null)),
  add constraint customers_mandate_needs_iban check (sepa_mandate_reference is null or iban is not null);

create unique index customers_mandate_reference on customers (project_id, sepa_mandate_reference)
  where sepa_mandate_reference is not null;
