-- Open items for books written before them (see 013_open_items.sql): what payment_allocations recorded and
-- the credit each invoice offset when it was issued become allocations, stornos settle their invoices, and
-- every account is settled oldest due date first, so that an OPEN invoice no longer sits beside credit on
-- its account. Then every invoice's status follows from its allocations, and payment_allocations goes:
-- allocations are the one record of what settled what.

do $$
declare
  invoice record;
  credit record;
  debit record;
  held record;
  account record;
  wanted numeric(18, 4);
  take numeric(18, 4);
  credit_left numeric(18, 4);
begin
  -- 1. what payments applied to the invoices they named
  insert into allocations (account_id, credit_entry_id, debit_entry_id, amount, reason, booking_date, created_at)
  select p.account_id, p.ledger_entry_id, e.id, pa.amount, 'PAYMENT', p.booking_date, p.created_at
  from payment_allocations pa
    join payments p on p.id = pa.payment_id
    join ledger_entries e on e.invoice_id = pa.invoice_id and e.entry_type = 'INVOICE' and e.account_id = p.account_id
  where p.ledger_entry_id is not null;

  -- 2. the credit each invoice offset when it was issued, from the oldest credit still unallocated
  for invoice in
    select i.id, i.account_id, i.credit_applied, i.invoice_date, e.id as entry_id
    from invoices i join ledger_entries e on e.invoice_id = i.id and e.entry_type = 'INVOICE'
    where i.credit_applied > 0 and i.gross_total > 0
    order by i.id
  loop
    wanted := invoice.credit_applied;
    for credit in
      select c.id, c.amount - coalesce((select sum(a.amount) from allocations a where a.credit_entry_id = c.id), 0) as open
      from ledger_entries c
      where c.account_id = invoice.account_id and c.amount > 0 and c.id < invoice.entry_id
      order by c.booking_date, c.id
    loop
      exit when wanted <= 0;
      continue when credit.open <= 0;
      take := least(wanted, credit.open);
      insert into allocations (account_id, credit_entry_id, debit_entry_id, amount, reason, booking_date)
      values (invoice.account_id, credit.id, invoice.entry_id, take, 'ISSUE', invoice.invoice_date);
      wanted := wanted - take;
    end loop;
  end loop;

  -- 3. a storno releases what was allocated to its invoice and settles the invoice with its CORRECTION entry
  for invoice in
    select i.id, i.account_id, i.gross_total, e.id as entry_id, c.id as correction_entry_id, c.booking_date
    from invoices i
      join ledger_entries e on e.invoice_id = i.id and e.entry_type = 'INVOICE'
      join ledger_entries c on c.invoice_id = i.id and c.entry_type = 'CORRECTION'
    where i.status = 'CANCELLED' and i.gross_total <> 0
    order by i.id
  loop
    if invoice.gross_total > 0 then
      for held in
        select a.credit_entry_id, sum(a.amount) as amount from allocations a where a.debit_entry_id = invoice.entry_id
        group by a.credit_entry_id having sum(a.amount) <> 0
      loop
        insert into allocations (account_id, credit_entry_id, debit_entry_id, amount, reason, booking_date)
        values (invoice.account_id, held.credit_entry_id, invoice.entry_id, -held.amount, 'STORNO', invoice.booking_date);
      end loop;
      insert into allocations (account_id, credit_entry_id, debit_entry_id, amount, reason, booking_date)
      values (invoice.account_id, invoice.correction_entry_id, invoice.entry_id, invoice.gross_total, 'STORNO', invoice.booking_date);
    else
      insert into allocations (account_id, credit_entry_id, debit_entry_id, amount, reason, booking_date)
      values (invoice.account_id, invoice.entry_id, invoice.correction_entry_id, -invoice.gross_total, 'STORNO', invoice.booking_date);
    end if;
  end loop;

  -- 4. every account settled: unallocated credit, oldest first, to open items, oldest due date first
  for account in select distinct l.account_id as id from ledger_entries l order by 1 loop
    for debit in
      select d.id, d.booking_date, coalesce(i.due_date, d.booking_date) as due_date,
        -d.amount - coalesce((select sum(a.amount) from allocations a where a.debit_entry_id = d.id), 0) as open
      from ledger_entries d left join invoices i on i.id = d.invoice_id and d.entry_type = 'INVOICE'
      where d.account_id = account.id and d.amount < 0
      order by 3, d.id
    loop
      wanted := debit.open;
      continue when wanted <= 0;
      for credit in
        select c.id, c.booking_date from ledger_entries c where c.account_id = account.id and c.amount > 0 order by c.booking_date, c.id
      loop
        exit when wanted <= 0;
        select c.amount - coalesce((select sum(a.amount) from allocations a where a.credit_entry_id = c.id), 0) into credit_left
        from ledger_entries c where c.id = credit.id;
        continue when credit_left <= 0;
        take := least(wanted, credit_left);
        insert into allocations (account_id, credit_entry_id, debit_entry_id, amount, reason, booking_date)
        -- settled on the first day both were booked
        values (account.id, credit.id, debit.id, take, 'SETTLEMENT', greatest(credit.booking_date, debit.booking_date));
        wanted := wanted - take;
      end loop;
    end loop;
  end loop;
end $$;

-- 5. every invoice's status from its allocations: PAID when its gross is allocated (on the day the last
-- allocation was booked, or the day it was marked paid before), PARTIAL when part of it is, else OPEN
with settled as (
  select i.id, i.status as was, i.paid_on, i.invoice_date, i.gross_total,
    coalesce(sum(a.amount), 0) as allocated, max(a.booking_date) as last_booked
  from invoices i
    join ledger_entries e on e.invoice_id = i.id and e.entry_type = 'INVOICE'
    left join allocations a on a.debit_entry_id = e.id
  where i.status <> 'CANCELLED'
  group by i.id)
update invoices i set
  status = case when s.gross_total <= 0 or s.allocated >= s.gross_total then 'PAID' when s.allocated > 0 then 'PARTIAL' else 'OPEN' end,
  paid_on = case when s.gross_total <= 0 then coalesce(s.paid_on, s.invoice_date)
    when s.allocated >= s.gross_total then coalesce(case when s.was = 'PAID' then s.paid_on end, s.last_booked, s.invoice_date)
    else null end
from settled s where s.id = i.id;

drop table payment_allocations;
