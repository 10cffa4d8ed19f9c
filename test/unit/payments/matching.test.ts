import { invoiceNumbersIn, matchPayment, nameKey, type AccountRef, type InvoiceCandidate, type MatchFacts } from '../../../payments/matching';

const account1: AccountRef = { accountId: '1', accountNumber: 'KTO000001', currency: 'EUR' };
const account2: AccountRef = { accountId: '2', accountNumber: 'KTO000002', currency: 'EUR' };

function invoice(number: string, openAmount: string, overrides: Partial<InvoiceCandidate> = {}): InvoiceCandidate {
  return {
    ...account1,
    invoiceId: number.slice(-1),
    invoiceNumber: number,
    status: 'OPEN',
    openAmount,
    invoiceDate: '2026-03-01',
    customerNames: ['Beispiel GmbH'],
    customerIban: 'DE02120300000000202051',
    ...overrides,
  };
}

const noFacts: MatchFacts = { referencedInvoices: [], sameAmountInvoices: [], payerIbanAccounts: [], fallbackAccount: null };
const payment = (amount: string, overrides: Partial<{ payerName: string | null; payerIban: string | null; currency: string }> = {}) => ({
  amount,
  currency: 'EUR',
  payerName: null,
  payerIban: null,
  ...overrides,
});

describe('invoice numbers in the reference', () => {
  test.each([
    ['Rechnung RE-2026-000001', ['RE-2026-000001']],
    ['re 2026 000002 und RE2026000003, nochmal RE-2026-000002', ['RE-2026-000002', 'RE-2026-000003']],
    ['RE-2026-0000011 is too long, XRE-2026-000001 is inside a word', []],
    ['Kundennummer K000001', []],
  ])('%s', (text, numbers) => {
    expect(invoiceNumbersIn(text)).toEqual(numbers);
  });

  test('the end-to-end id counts too', () => {
    expect(invoiceNumbersIn('Zahlung', 'RE-2026-000042')).toEqual(['RE-2026-000042']);
  });
});

describe('payer names compare without case, accents, punctuation, word order and legal form', () => {
  test.each([
    ['Müller & Söhne KG', 'MUELLER UND SOEHNE'],
    ['Beispiel GmbH', 'beispiel gmbh'],
    ['Mustermann, Erika', 'Erika Mustermann'],
    ['Café Noël e.K.', 'Cafe Noel'],
  ])('%s = %s', (a, b) => {
    expect(nameKey(a)).toBe(nameKey(b));
  });

  test('different people stay different', () => {
    expect(nameKey('Erika Mustermann')).not.toBe(nameKey('Max Mustermann'));
  });
});

describe('matching by invoice number', () => {
  test('the exact open amount pays the invoice', () => {
    const decision = matchPayment(payment('119'), { ...noFacts, referencedInvoices: [invoice('RE-2026-000001', '119.00')] });
    expect(decision).toMatchObject({
      outcome: 'MATCHED',
      account: account1,
      allocations: [{ invoiceNumber: 'RE-2026-000001', amount: '119.00', openAfter: '0.00' }],
      amountApplied: '119.00',
      creditBooked: '0.00',
    });
  });

  test('less than open is applied and leaves the invoice open with the rest', () => {
    const decision = matchPayment(payment('40'), { ...noFacts, referencedInvoices: [invoice('RE-2026-000001', '119.00')] });
    expect(decision).toMatchObject({ outcome: 'PARTIAL', allocations: [{ amount: '40.00', openAfter: '79.00' }], amountApplied: '40.00', creditBooked: '0.00' });
  });

  test('more than open pays the invoice and books the rest as credit', () => {
    const decision = matchPayment(payment('150'), { ...noFacts, referencedInvoices: [invoice('RE-2026-000001', '119.00')] });
    expect(decision).toMatchObject({ outcome: 'PARTIAL', allocations: [{ amount: '119.00', openAfter: '0.00' }], amountApplied: '119.00', creditBooked: '31.00' });
    expect(decision.reason).toContain('31.00 booked as credit on KTO000001');
  });

  test('several named invoices are paid in the order the payer wrote them', () => {
    const decision = matchPayment(payment('150'), {
      ...noFacts,
      referencedInvoices: [invoice('RE-2026-000003', '100.00'), invoice('RE-2026-000002', '100.00')],
    });
    expect(decision.outcome).toBe('PARTIAL');
    expect(decision.allocations.map((allocation) => [allocation.invoiceNumber, allocation.amount, allocation.openAfter])).toEqual([
      ['RE-2026-000003', '100.00', '0.00'],
      ['RE-2026-000002', '50.00', '50.00'],
    ]);
  });

  test('an invoice paid already turns the payment into credit on its account', () => {
    const decision = matchPayment(payment('119'), { ...noFacts, referencedInvoices: [invoice('RE-2026-000001', '0.00', { status: 'PAID' })] });
    expect(decision).toMatchObject({ outcome: 'CREDIT', account: account1, allocations: [], creditBooked: '119.00' });
  });

  test('a named invoice on another account or in another currency receives nothing', () => {
    const decision = matchPayment(payment('200'), {
      ...noFacts,
      referencedInvoices: [invoice('RE-2026-000001', '100.00'), invoice('RE-2026-000002', '100.00', { ...account2 }), invoice('RE-2026-000003', '100.00', { currency: 'USD' })],
    });
    expect(decision.allocations.map((allocation) => allocation.invoiceNumber)).toEqual(['RE-2026-000001']);
    expect(decision.creditBooked).toBe('100.00');
  });
});

describe('matching without an invoice number', () => {
  test('amount and payer name pay the oldest fitting invoice', () => {
    const decision = matchPayment(payment('59.50', { payerName: 'BEISPIEL GMBH' }), {
      ...noFacts,
      sameAmountInvoices: [invoice('RE-2026-000007', '59.50', { invoiceDate: '2026-02-01' }), invoice('RE-2026-000004', '59.50', { invoiceDate: '2026-01-01' })],
    });
    expect(decision).toMatchObject({ outcome: 'MATCHED', allocations: [{ invoiceNumber: 'RE-2026-000004', amount: '59.50' }] });
  });

  test('the payer IBAN stands in for the name', () => {
    const decision = matchPayment(payment('59.50', { payerName: 'Kontoinhaber unbekannt', payerIban: 'DE02120300000000202051' }), {
      ...noFacts,
      sameAmountInvoices: [invoice('RE-2026-000004', '59.50')],
    });
    expect(decision.outcome).toBe('MATCHED');
  });

  test('the right amount from someone else matches nothing', () => {
    const decision = matchPayment(payment('59.50', { payerName: 'Max Mustermann' }), { ...noFacts, sameAmountInvoices: [invoice('RE-2026-000004', '59.50')] });
    expect(decision.outcome).toBe('UNMATCHED');
  });

  test('fitting invoices on two accounts are ambiguous: credit on the account of the payer IBAN', () => {
    const decision = matchPayment(payment('59.50', { payerName: 'Beispiel GmbH', payerIban: 'DE75512108001245126199' }), {
      ...noFacts,
      sameAmountInvoices: [invoice('RE-2026-000004', '59.50'), invoice('RE-2026-000005', '59.50', { ...account2 })],
      payerIbanAccounts: [account2],
    });
    expect(decision).toMatchObject({ outcome: 'CREDIT', account: account2, creditBooked: '59.50' });
    expect(decision.reason).toContain('ambiguous');
  });

  test('a known payer IBAN without a fitting invoice books credit on that account', () => {
    const decision = matchPayment(payment('10', { payerIban: 'DE02120300000000202051' }), { ...noFacts, payerIbanAccounts: [account1], fallbackAccount: account2 });
    expect(decision).toMatchObject({ outcome: 'CREDIT', account: account1 });
  });

  test('the account the request names takes what nothing else identifies, in its currency only', () => {
    expect(matchPayment(payment('10'), { ...noFacts, fallbackAccount: account2 })).toMatchObject({ outcome: 'CREDIT', account: account2, creditBooked: '10.00' });
    expect(matchPayment(payment('10', { currency: 'USD' }), { ...noFacts, fallbackAccount: account2 })).toMatchObject({ outcome: 'UNMATCHED', account: null });
  });

  test('nothing identifies the payment: unmatched, nothing applied, nothing booked', () => {
    expect(matchPayment(payment('10'), noFacts)).toMatchObject({ outcome: 'UNMATCHED', account: null, allocations: [], amountApplied: '0.00', creditBooked: '0.00' });
  });
});
