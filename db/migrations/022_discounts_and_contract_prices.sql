-- A contract's own prices and its discounts (billing/pricing.ts, billing/discounts.ts), and the DISCOUNT lines
-- that carry a discount onto the invoice beside the charge it reduces.

-- From valid_from on (null: from the start) the contract's price for the item replaces the catalogue's, in the
-- contract's currency. PUT /Contracts/{n}/Prices replaces the whole set.
create table contract_prices (
  id bigserial primary key,
  contract_id bigint not null references contracts,
  item_id bigint not null references items,
  price numeric(18, 4) not null check (price >= 0),
  valid_from date,
  unique nulls not distinct (contract_id, item_id, valid_from)
);

-- A discount: a percentage of the charge (0 < value <= 100) or a fixed net amount per billing period, on one
-- item or (percentages only) on every item, from valid_from until valid_until (exclusive) or for `periods`
-- billing periods. request_key makes a repeated POST return the first discount. Ending a discount that an
-- issued invoice carries sets valid_until (ended_at says when); one no invoice carries is deleted.
create table contract_discounts (
  id bigserial primary key,
  contract_id bigint not null references contracts,
  request_key text not null,
  kind text not null check (kind in ('PERCENTAGE', 'FIXED')),
  value numeric(18, 4) not null check (value > 0 and (kind <> 'PERCENTAGE' or value <= 100)),
  item_id bigint references items,
  valid_from date not null,
  valid_until date check (valid_until > valid_from),
  periods integer check (periods >= 1),
  description text,
  created_at timestamptz not null default now(),
  ended_at timestamptz,
  check (kind = 'PERCENTAGE' or item_id is not null),
  unique (contract_id, request_key)
);
create index contract_discounts_of_contract on contract_discounts (contract_id);

alter table activities drop constraint activities_origin_check;
alter table activities add constraint activities_origin_check check (origin in ('SUBSCRIPTION', 'MANUAL', 'CREDIT', 'PRORATION', 'DISCOUNT'));
