-- What an item supplies decides the day whose VAT rate applies (billing/tax.ts, taxPoint): a continuing
-- service (SaaS) is taxed at the rate in force on the last day of each period it is billed for, goods (a
-- subscription box) at the rate of their delivery date. Items made before this migration are services.
alter table items add column supply_type text not null default 'SERVICE' check (supply_type in ('SERVICE', 'GOODS'));
