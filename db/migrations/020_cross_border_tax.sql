-- Tax across borders (billing/tax.ts, applicableTax).

-- Tax groups of the reduced rate say so: a One-Stop-Shop supply of them is taxed at the destination
-- country's reduced rate instead of its standard rate.
alter table tax_groups drop constraint tax_groups_kind_check;
alter table tax_groups add constraint tax_groups_kind_check check (kind in ('STANDARD', 'REDUCED', 'SMALL_BUSINESS'));
update tax_groups set kind = 'REDUCED' where code = 'DE_REDUCED';

-- The project's One-Stop-Shop status (PUT /Settings/tax): over the EUR 10,000 threshold of § 3c Abs. 4 UStG,
-- or opted in, so that consumers in other EU countries are taxed at their country's rate.
alter table projects add column one_stop_shop boolean not null default false;

-- The country an invoice's tax belongs to: the customer's billing country when the invoice was issued. The
-- One-Stop-Shop return (GET /Exports/oss) declares each invoice's tax for that country, whatever the
-- customer's address says later, so it is taken once, with the invoice.
alter table invoices add column tax_country text;

create function invoices_take_tax_country() returns trigger language plpgsql as $$
begin
  if new.tax_country is null then
    select upper(trim(country)) into new.tax_country from customers where id = new.customer_id;
  end if;
  return new;
end;
$$;

create trigger invoices_tax_country before insert on invoices
  for each row execute function invoices_take_tax_country();

update invoices i set tax_country = upper(trim(c.country)) from customers c where c.id = i.customer_id and i.tax_country is null;

