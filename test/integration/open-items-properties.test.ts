import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { addDays } from '../../billing/calendar';
import { calendarDateAt } from '../../billing/zoned-date';
import { createLogger } from '../../config/logger';
import { issueApiKey } from '../../db/queries/projects';
import { checkAllocations } from '../../dev/book-invariants';
import { runBilling } from '../../operations/billing-runs';
import { cancelInvoiceWithin } from '../../operations/invoices';
import { startApi, type ApiHarness, type ApiResponse } from './api/harness';

/**
 * Open items over random sequences of what happens to an account (invoices issued, payments naming invoices
 * or not, over and under, manual credits and debits, stornos, UNMATCHED payments assigned afterwards), run
 * through the real operations on embedded PostgreSQL. After every sequence the books are checked against an
 * oracle of this test's own: the balance it expects from the amounts it booked (an invoice of net n is
 * n + 19 % rounded half-up to the cent), and from that balance what must be open and what must be credit,
 * since an account never keeps both; open amounts and credit are read from the allocations, not from the
 * code that wrote them.
 */

jest.setTimeout(600_000);

const logger = createLogger({ level: 'warn', name: 'open-items-properties' });
let api: ApiHarness;

beforeAll(async () => {
  api = await startApi();
  await expect(api.call('POST', '/ProductGroups', { code: 'OP', name: 'Software', taxGroup: 'DE_STANDARD', revenueAccount: '8400' })).resolves.toMatchObject({ status: 201 });
  // 100.00 net a month: 119.00 gross
  await expect(
    api.call('POST', '/Items', { itemNumber: 'OP-1', name: 'Abo', unit: 'MONTH', productGroup: 'OP', prices: [{ price: '100.00', currency: 'EUR' }] }),
  ).resolves.toMatchObject({ status: 201 });
});

afterAll(async () => {
  await api?.stop();
});

function created(response: ApiResponse): any {
  if (response.status !== 201 && response.status !== 200) throw new Error(`expected 200 or 201, got ${response.status}: ${JSON.stringify(response.body)}`);
  return response.body;
}

/** Cents as the API writes them: 3900 → "39.00", -3900 → "-39.00". */
function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const absolute = Math.abs(cents);
  return `${sign}${Math.floor(absolute / 100)}.${String(absolute % 100).padStart(2, '0')}`;
}

/** Gross of an invoice of `netCents` at 19 %, the tax rounded half-up to the cent. */
function grossOf(netCents: number): number {
  return netCents + Math.floor((netCents * 19 + 50) / 100);
}

/** One account under test: its contract bills 100.00 net on the first of every month from January 2026. */
interface Books {
  run: number;
  accountNumber: string;
  contractId: string;
  contractNumber: string;
  /** The invoices issued, with their gross in cents and whether a storno cancelled them. */
  invoices: { invoiceNumber: string; grossCents: number; cancelled: boolean }[];
  /** Months billed so far; the next invoice is for the month after. */
  months: number;
  /** What this test booked: the balance it expects, in cents. */
  balanceCents: number;
  today: string;
  steps: number;
}

let runs = 0;

async function openBooks(): Promise<Books> {
  runs += 1;
  const customer = created(await api.call('POST', '/Customers', { companyName: `Offene Posten ${runs} GmbH` }));
  const account = created(
    await api.call('POST', `/Customers/${customer.customerNumber}/Accounts`, { name: 'Hauptkonto', type: 'POSTPAID', currency: 'EUR', creditLimit: '1000000.00' }),
  );
  const contract = created(
    await api.call('POST', '/Contracts', {
      customerNumber: customer.customerNumber,
      accountNumber: account.accountNumber,
      startDate: '2026-01-01',
      billingInterval: { count: 1, unit: 'MONTH' },
      invoiceInAdvance: true,
      subscription: [{ itemNumber: 'OP-1', quantity: '1' }],
    }),
  );
  const [row] = await api.sql<{ id: string }[]>`select id from contracts where project_id = ${api.projectId} and contract_number = ${contract.contractNumber}`;
  return { run: runs, accountNumber: account.accountNumber, contractId: row!.id, contractNumber: contract.contractNumber, invoices: [], months: 0, balanceCents: 0, today: '2026-01-01', steps: 0 };
}

/**
 * What can happen to an account. Each action has its random parameters and carries itself out through the
 * operations, booking in `books` what it expects. A new kind (a returned direct debit, say) is one more entry.
 */
type Action =
  | { kind: 'issue'; extraNetCents: number | null }
  | { kind: 'pay'; cents: number; names: number | null }
  | { kind: 'credit'; cents: number }
  | { kind: 'debit'; cents: number }
  | { kind: 'storno'; pick: number }
  | { kind: 'assign'; cents: number; names: number | null }
  | { kind: 'collect'; pick: number; credited: boolean }
  | { kind: 'bankReturn'; pick: number; feeCents: number };

const cents = fc.integer({ min: 1, max: 30_000 });

/** A SEPA collection the 'collect' action made, per run: its end-to-end id and amount, and whether the bank returned it yet. */
const collectionsOf = new Map<number, { endToEndId: string; cents: number; returned: boolean }[]>();
const statementFixture = (name: string) => fs.readFileSync(path.join(__dirname, '../fixtures/bank-statements', name), 'utf8');
let statementKey: string | null = null;

/** Posts a camt.053.001.08 statement of one entry, from the fixture templates, under a key of its own (the harness sends JSON only). */
async function postCamtEntry(books: Books, template: string, values: Record<string, string>): Promise<any> {
  statementKey ??= (await issueApiKey(api.sql, api.projectId, 'statements')).key;
  books.steps += 1;
  const fill = (text: string, fields: Record<string, string>) => text.replace(/\{\{(\w+)\}\}/g, (_match, name: string) => fields[name]!);
  const reference = `PROP-${books.run}-${books.steps}`;
  const entry = fill(statementFixture(template), { ...values, BOOKING_DATE: books.today, ACCT_SVCR_REF: reference });
  const xml = fill(statementFixture('camt053.001.08-template.xml'), { MSG_ID: reference, BOOKING_DATE: books.today, ENTRIES: entry });
  const response = await fetch(`${api.baseUrl}/BankStatements`, { method: 'POST', headers: { 'api-key': statementKey, 'content-type': 'application/xml' }, body: xml });
  return created({ status: response.status, contentType: response.headers.get('content-type'), body: await response.json() });
}

/** The account's customer gets an IBAN and a SEPA mandate, and the project a creditor and return fees charged on, once. */
async function readyForDirectDebits(books: Books): Promise<string> {
  const mandate = `MANDAT-OP-${books.run}`;
  if (collectionsOf.has(books.run)) return mandate;
  collectionsOf.set(books.run, []);
  created(
    await api.call('PUT', '/Company', {
      legalName: 'Offene Posten Test GmbH',
      address: { addressLine1: 'Hauptstr. 1', zipCode: '10115', cityName: 'Berlin' },
      vatId: 'DE123456789',
      email: 'buchhaltung@op.test',
      phone: '+49 30 1234567',
      iban: 'DE89370400440532013000',
      sepaCreditorId: 'DE98ZZZ09999999999',
    }),
  );
  created(await api.call('PUT', '/Settings/receivables', { sepaPreNotificationDays: 14, chargeReturnFees: true }));
  const { customerNumber } = (await api.call('GET', `/Accounts/${books.accountNumber}`)).body;
  created(
    await api.call('PUT', `/Customers/${customerNumber}`, {
      companyName: `Offene Posten ${books.run} GmbH`,
      iban: 'DE02120300000000202051',
      sepaMandate: { reference: mandate, signedOn: '2025-12-01' },
    }),
  );
  return mandate;
}
const ACTIONS: { [K in Action['kind']]: { arbitrary: fc.Arbitrary<Extract<Action, { kind: K }>>; run(books: Books, action: Extract<Action, { kind: K }>): Promise<void> } } = {
  issue: {
    arbitrary: fc.record({ kind: fc.constant('issue' as const), extraNetCents: fc.option(fc.integer({ min: 1, max: 20_000 }), { nil: null }) }),
    async run(books, action) {
      if (books.months >= 12) return;
      books.months += 1;
      books.today = `2026-${String(books.months).padStart(2, '0')}-01`;
      if (action.extraNetCents !== null) {
        created(
          await api.call('POST', `/Contracts/${books.contractNumber}/Activities`, {
            itemNumber: 'OP-1',
            quantity: '1',
            unitPrice: money(action.extraNetCents),
            description: 'Zusatzleistung',
            periodStart: books.today,
            periodEnd: `2026-${String(books.months).padStart(2, '0')}-02`,
            dueDate: books.today,
          }),
        );
      }
      const result = await runBilling({ sql: api.sql, logger }, { contractId: books.contractId, asOf: books.today, billingRunKey: `prop-${books.run}-${books.months}` });
      if (result.outcome !== 'INVOICED') throw new Error(`billing ${books.today}: ${result.outcome}`);
      const grossCents = grossOf(10_000 + (action.extraNetCents ?? 0));
      expect(result.grossTotal).toBe(money(grossCents));
      books.invoices.push({ invoiceNumber: result.invoiceNumber, grossCents, cancelled: false });
      books.balanceCents -= grossCents;
    },
  },
  pay: {
    arbitrary: fc.record({ kind: fc.constant('pay' as const), cents, names: fc.option(fc.nat(), { nil: null }) }),
    async run(books, action) {
      const named = action.names === null || books.invoices.length === 0 ? null : books.invoices[action.names % books.invoices.length]!;
      const payment = created(
        await api.call('POST', '/Payments', {
          amount: money(action.cents),
          currency: 'EUR',
          bookingDate: books.today,
          reference: named ? `Rechnung ${named.invoiceNumber}` : 'Vorauszahlung',
          accountNumber: books.accountNumber,
        }),
      );
      expect(payment.accountNumber).toBe(books.accountNumber);
      books.balanceCents += action.cents;
    },
  },
  credit: {
    arbitrary: fc.record({ kind: fc.constant('credit' as const), cents }),
    async run(books, action) {
      created(await api.call('POST', `/Accounts/${books.accountNumber}/Transactions`, { type: 'CREDIT', amount: money(action.cents), bookingDate: books.today }));
      books.balanceCents += action.cents;
    },
  },
  debit: {
    arbitrary: fc.record({ kind: fc.constant('debit' as const), cents }),
    async run(books, action) {
      created(await api.call('POST', `/Accounts/${books.accountNumber}/Transactions`, { type: 'DEBIT', amount: money(action.cents), bookingDate: books.today }));
      books.balanceCents -= action.cents;
    },
  },
  storno: {
    arbitrary: fc.record({ kind: fc.constant('storno' as const), pick: fc.nat() }),
    async run(books, action) {
      const standing = books.invoices.filter((invoice) => !invoice.cancelled);
      if (standing.length === 0) return;
      const invoice = standing[action.pick % standing.length]!;
      await api.sql.begin((tx) => cancelInvoiceWithin(tx, { projectId: api.projectId, invoiceNumber: invoice.invoiceNumber, correctionDate: books.today, reason: 'Test' }));
      invoice.cancelled = true;
      books.balanceCents += invoice.grossCents;
    },
  },
  assign: {
    arbitrary: fc.record({ kind: fc.constant('assign' as const), cents, names: fc.option(fc.nat(), { nil: null }) }),
    async run(books, action) {
      books.steps += 1;
      // no reference, no payer, no account: UNMATCHED, booked nowhere until it is assigned
      const payment = created(await api.call('POST', '/Payments', { amount: money(action.cents), currency: 'EUR', bookingDate: books.today, reference: `Unbekannt ${books.run}-${books.steps}` }));
      expect(payment.outcome).toBe('UNMATCHED');
      const named = action.names === null || books.invoices.length === 0 ? null : books.invoices[action.names % books.invoices.length]!;
      const assigned = created(
        await api.call('POST', `/Payments/${payment.paymentId}/assign`, named ? { invoiceNumbers: [named.invoiceNumber] } : { accountNumber: books.accountNumber }),
      );
      expect(assigned.accountNumber).toBe(books.accountNumber);
      books.balanceCents += action.cents;
    },
  },
  // a direct debit of what is open on an invoice, which the bank credits on a statement or not (yet)
  collect: {
    arbitrary: fc.record({ kind: fc.constant('collect' as const), pick: fc.nat(), credited: fc.boolean() }),
    async run(books, action) {
      const mandate = await readyForDirectDebits(books);
      const standing = books.invoices.filter((invoice) => !invoice.cancelled);
      if (standing.length === 0) return;
      const invoice = standing[action.pick % standing.length]!;
      // past any day an invoice announced for its debit (the announcement is at most 60 days after its date)
      const collectionDate = addDays(calendarDateAt(Date.now(), 'Europe/Berlin'), 61);
      const exported = await api.call('POST', '/Exports/sepa', { collectionDate, invoiceNumbers: [invoice.invoiceNumber] }, { accept: 'application/json' });
      // paid or nothing open, or a collection of it still out: nothing collected, and for no other reason
      if (exported.status === 409) {
        expect(exported.body.errors).toEqual([{ path: `invoices.${invoice.invoiceNumber}`, message: expect.stringMatching(/^(NOT_OPEN|NOTHING_OPEN|ALREADY_COLLECTED)/) }]);
        return;
      }
      const [collected] = created(exported).collected;
      const [row] = await api.sql<{ endToEndId: string }[]>`
        select s.end_to_end_id as "endToEndId" from sepa_collections s join sepa_messages m on m.id = s.sepa_message_id join invoices i on i.id = s.invoice_id
        where m.project_id = ${api.projectId} and m.message_id = ${exported.body.messageId} and i.invoice_number = ${invoice.invoiceNumber}`;
      const amountCents = Math.round(Number(collected.amount) * 100);
      collectionsOf.get(books.run)!.push({ endToEndId: row!.endToEndId, cents: amountCents, returned: false });
      if (!action.credited) return;
      const credit = await postCamtEntry(books, 'camt053.001.08-collection-credit-entry.xml', { AMOUNT: collected.amount, END_TO_END_ID: row!.endToEndId, MANDATE: mandate });
      expect(credit.payments[0]).toMatchObject({ outcome: 'MATCHED', accountNumber: books.accountNumber });
      books.balanceCents += amountCents;
    },
  },
  // the bank returns a collection (Rücklastschrift), whatever happened to its invoice since, with a fee charged on
  bankReturn: {
    arbitrary: fc.record({ kind: fc.constant('bankReturn' as const), pick: fc.nat(), feeCents: fc.integer({ min: 0, max: 900 }) }),
    async run(books, action) {
      const outstanding = (collectionsOf.get(books.run) ?? []).filter((collection) => !collection.returned);
      if (outstanding.length === 0) return;
      const collection = outstanding[action.pick % outstanding.length]!;
      const answer = await postCamtEntry(books, 'camt053.001.08-return-entry.xml', {
        AMOUNT: money(collection.cents),
        BOOKED: money(collection.cents + action.feeCents),
        FEE: money(action.feeCents),
        END_TO_END_ID: collection.endToEndId,
        MANDATE: `MANDAT-OP-${books.run}`,
        REASON: 'AM04',
      });
      expect(answer.returns[0]).toMatchObject({ outcome: 'RETURNED', accountNumber: books.accountNumber, amount: money(collection.cents), feeBooked: action.feeCents > 0 });
      collection.returned = true;
      books.balanceCents -= collection.cents + action.feeCents;
    },
  },
};

const actionArbitrary: fc.Arbitrary<Action> = fc.oneof(...Object.values(ACTIONS).map((action) => action.arbitrary as fc.Arbitrary<Action>));

async function carryOut(books: Books, action: Action): Promise<void> {
  await (ACTIONS[action.kind].run as (books: Books, action: Action) => Promise<void>)(books, action);
}

/** What the books hold for the account: the ledger's sum, and from the allocations the open amounts and the unallocated credit. */
async function readBooks(accountNumber: string) {
  const entries = await api.sql<{ id: string; type: string; amountCents: number; allocatedCents: number; invoiceId: string | null }[]>`
    select e.id, e.entry_type as type, round(e.amount * 100)::int as "amountCents", e.invoice_id as "invoiceId",
      coalesce(round((select sum(al.amount) from allocations al where al.credit_entry_id = e.id or al.debit_entry_id = e.id) * 100), 0)::int as "allocatedCents"
    from ledger_entries e join accounts a on a.id = e.account_id
    where a.project_id = ${api.projectId} and a.account_number = ${accountNumber}`;
  const pairs = await api.sql<{ netCents: number }[]>`
    select round(sum(al.amount) * 100)::int as "netCents" from allocations al join accounts a on a.id = al.account_id
    where a.project_id = ${api.projectId} and a.account_number = ${accountNumber} group by al.credit_entry_id, al.debit_entry_id`;
  const invoices = await api.sql<{ invoiceNumber: string; status: string; grossCents: number; allocatedCents: number; paidOn: string | null }[]>`
    select i.invoice_number as "invoiceNumber", i.status, round(i.gross_total * 100)::int as "grossCents", i.paid_on as "paidOn",
      coalesce(round((select sum(al.amount) from allocations al join ledger_entries e on e.id = al.debit_entry_id
        where e.invoice_id = i.id and e.entry_type = 'INVOICE') * 100), 0)::int as "allocatedCents"
    from invoices i join accounts a on a.id = i.account_id
    where a.project_id = ${api.projectId} and a.account_number = ${accountNumber} order by i.id`;
  const balanceCents = entries.reduce((sum, entry) => sum + entry.amountCents, 0);
  const left = (entry: (typeof entries)[number]) => Math.abs(entry.amountCents) - entry.allocatedCents;
  return {
    entries,
    pairs,
    invoices,
    balanceCents,
    unallocatedCents: entries.filter((entry) => entry.amountCents > 0).reduce((sum, entry) => sum + left(entry), 0),
    openCents: entries.filter((entry) => entry.amountCents < 0).reduce((sum, entry) => sum + left(entry), 0),
  };
}

/** The oracle: what the account must show after what this test booked. */
async function expectConsistent(books: Books): Promise<void> {
  const read = await readBooks(books.accountNumber);
  expect(read.balanceCents).toBe(books.balanceCents);
  // never both credit and something open: a positive balance is all credit, a negative one all open
  expect({ unallocated: read.unallocatedCents, open: read.openCents }).toEqual({ unallocated: Math.max(books.balanceCents, 0), open: Math.max(-books.balanceCents, 0) });
  expect(read.balanceCents).toBe(read.unallocatedCents - read.openCents);
  for (const entry of read.entries) {
    expect(entry.allocatedCents).toBeGreaterThanOrEqual(0);
    expect(entry.allocatedCents).toBeLessThanOrEqual(Math.abs(entry.amountCents));
  }
  for (const pair of read.pairs) expect(pair.netCents).toBeGreaterThanOrEqual(0);
  expect(read.invoices.map((invoice) => [invoice.invoiceNumber, invoice.grossCents, invoice.status === 'CANCELLED'])).toEqual(
    books.invoices.map((invoice) => [invoice.invoiceNumber, invoice.grossCents, invoice.cancelled]),
  );
  for (const invoice of read.invoices) {
    expect(invoice.allocatedCents).toBeLessThanOrEqual(invoice.grossCents);
    if (invoice.status === 'CANCELLED') continue;
    const expected = invoice.allocatedCents === invoice.grossCents ? 'PAID' : invoice.allocatedCents > 0 ? 'PARTIAL' : 'OPEN';
    expect({ invoiceNumber: invoice.invoiceNumber, status: invoice.status, paid: invoice.paidOn !== null }).toEqual({ invoiceNumber: invoice.invoiceNumber, status: expected, paid: expected === 'PAID' });
  }
  // the API says the same: the account's open items and credit, each invoice's amountOpen
  const openItems = (await api.call('GET', `/Accounts/${books.accountNumber}/OpenItems`)).body;
  expect(openItems).toMatchObject({ balance: money(books.balanceCents), unallocatedCredit: money(read.unallocatedCents), openTotal: money(read.openCents) });
  const listed = (await api.call('GET', `/Invoices?customerNumber=${encodeURIComponent((await api.call('GET', `/Accounts/${books.accountNumber}`)).body.customerNumber)}&limit=100`)).body.items;
  const openOfInvoices = listed.reduce((sum: number, invoice: any) => sum + Math.round(Number(invoice.amountOpen) * 100), 0);
  const openOfOthers = openItems.openItems.filter((item: any) => item.invoiceNumber === null).reduce((sum: number, item: any) => sum + Math.round(Number(item.amountOpen) * 100), 0);
  expect(openOfInvoices + openOfOthers).toBe(read.openCents);
}

test('invoice 119.00, a payment of 50.00 naming it, a manual credit of 30.00: PARTIAL with 39.00 open, balance -39.00', async () => {
  const books = await openBooks();
  await carryOut(books, { kind: 'issue', extraNetCents: null });
  const [invoice] = books.invoices;
  expect(invoice!.grossCents).toBe(11_900);
  await carryOut(books, { kind: 'pay', cents: 5_000, names: 0 });
  expect((await api.call('GET', `/Invoices/${invoice!.invoiceNumber}`)).body).toMatchObject({ status: 'PARTIAL', amountOpen: '69.00' });
  await carryOut(books, { kind: 'credit', cents: 3_000 });
  expect((await api.call('GET', `/Invoices/${invoice!.invoiceNumber}`)).body).toMatchObject({ grossTotal: '119.00', status: 'PARTIAL', amountOpen: '39.00' });
  expect((await api.call('GET', `/Accounts/${books.accountNumber}`)).body.balance).toBe('-39.00');
  expect((await api.call('GET', `/Accounts/${books.accountNumber}/OpenItems`)).body).toMatchObject({
    balance: '-39.00',
    unallocatedCredit: '0.00',
    openTotal: '39.00',
    openItems: [{ type: 'INVOICE', invoiceNumber: invoice!.invoiceNumber, amount: '119.00', amountOpen: '39.00' }],
    credits: [],
  });
  await expectConsistent(books);
  expect(await checkAllocations(api.sql, api.projectId)).toEqual([]);
});

test('a collection credited by the bank, its invoice cancelled, then returned with a fee: the return takes back the credit the storno freed', async () => {
  const books = await openBooks();
  await carryOut(books, { kind: 'issue', extraNetCents: null });
  await carryOut(books, { kind: 'pay', cents: 5_000, names: 0 });
  // 69.00 open is collected and credited: PAID, balance 0.00
  await carryOut(books, { kind: 'collect', pick: 0, credited: true });
  expect((await api.call('GET', `/Invoices/${books.invoices[0]!.invoiceNumber}`)).body).toMatchObject({ status: 'PAID', amountOpen: '0.00' });
  await carryOut(books, { kind: 'storno', pick: 0 });
  expect(books.balanceCents).toBe(11_900);
  // the bank takes back 69.00 and charges 3.00: 119.00 - 69.00 - 3.00 of credit is left
  await carryOut(books, { kind: 'bankReturn', pick: 0, feeCents: 300 });
  expect(books.balanceCents).toBe(4_700);
  await expectConsistent(books);
  // the next invoice is offset by what is left
  await carryOut(books, { kind: 'issue', extraNetCents: null });
  expect((await api.call('GET', `/Invoices/${books.invoices[1]!.invoiceNumber}`)).body).toMatchObject({ status: 'PARTIAL', amountOpen: '72.00' });
  await expectConsistent(books);
  expect(await checkAllocations(api.sql, api.projectId)).toEqual([]);
});

test('a collection credited, its invoice cancelled and the freed credit spent on a debit, then returned: the invoice stays settled by its storno, the return is open', async () => {
  const books = await openBooks();
  await carryOut(books, { kind: 'debit', cents: 5_000 });
  await carryOut(books, { kind: 'issue', extraNetCents: null });
  // 119.00 collected and credited: the invoice is PAID, the debit of 50.00 still open
  await carryOut(books, { kind: 'collect', pick: 0, credited: true });
  const invoiceNumber = books.invoices[0]!.invoiceNumber;
  expect((await api.call('GET', `/Invoices/${invoiceNumber}`)).body).toMatchObject({ status: 'PAID', amountOpen: '0.00' });
  // the storno frees the 119.00: 50.00 settle the debit, 69.00 stay credit
  await carryOut(books, { kind: 'storno', pick: 0 });
  expect((await api.call('GET', `/Accounts/${books.accountNumber}/OpenItems`)).body).toMatchObject({ balance: '69.00', unallocatedCredit: '69.00', openTotal: '0.00' });
  // the bank takes the 119.00 back: the 69.00 of credit settle the return, 50.00 of it stay open; the storno stays on its invoice
  await carryOut(books, { kind: 'bankReturn', pick: 0, feeCents: 0 });
  expect((await api.call('GET', `/Invoices/${invoiceNumber}`)).body).toMatchObject({ status: 'CANCELLED', amountOpen: '0.00' });
  expect((await api.call('GET', `/Accounts/${books.accountNumber}/OpenItems`)).body).toMatchObject({
    balance: '-50.00',
    unallocatedCredit: '0.00',
    openTotal: '50.00',
    openItems: [{ type: 'RETURN', invoiceNumber: null, amount: '119.00', amountOpen: '50.00' }],
  });
  await expectConsistent(books);
  expect(await checkAllocations(api.sql, api.projectId)).toEqual([]);
});

test('random sequences of invoices, payments, credits, debits, stornos, assignments, SEPA collections and bank returns keep balance = unallocated credit - open amounts', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(actionArbitrary, { minLength: 1, maxLength: 14 }), async (actions) => {
      const books = await openBooks();
      for (const action of actions) await carryOut(books, action);
      await expectConsistent(books);
    }),
    { numRuns: 40, endOnFailure: true },
  );
  expect(await checkAllocations(api.sql, api.projectId)).toEqual([]);
});
