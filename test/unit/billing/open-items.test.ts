import { allocateOldestFirst, allocateTo, compareEntryIds, invoiceSettlement } from '../../../billing/open-items';

describe('allocateOldestFirst', () => {
  it('pays the oldest due date first and leaves the rest open', () => {
    // credit 100.00; items 60.00 due 03-01 (entry 7), 50.00 due 02-01 (entry 9): 02-01 gets 50, 03-01 the other 50
    const rows = allocateOldestFirst(
      [{ entryId: '5', bookingDate: '2026-01-10', open: '100.00' }],
      [
        { entryId: '7', dueDate: '2026-03-01', open: '60.00' },
        { entryId: '9', dueDate: '2026-02-01', open: '50.00' },
      ],
    );
    expect(rows).toEqual([
      { creditEntryId: '5', debitEntryId: '9', amount: '50' },
      { creditEntryId: '5', debitEntryId: '7', amount: '50' },
    ]);
  });

  it('spends the oldest credit first and splits a credit over items', () => {
    // credits 30.00 (entry 12, 01-05) and 20.00 (entry 3, 01-20); item 119.00: 30 + 20 allocated, 69.00 stays open
    const rows = allocateOldestFirst(
      [
        { entryId: '3', bookingDate: '2026-01-20', open: '20.00' },
        { entryId: '12', bookingDate: '2026-01-05', open: '30.00' },
      ],
      [{ entryId: '20', dueDate: '2026-01-15', open: '119.00' }],
    );
    expect(rows).toEqual([
      { creditEntryId: '12', debitEntryId: '20', amount: '30' },
      { creditEntryId: '3', debitEntryId: '20', amount: '20' },
    ]);
  });

  it('breaks ties of the due date by entry id as a number, not as text', () => {
    const rows = allocateOldestFirst(
      [{ entryId: '1', bookingDate: '2026-01-01', open: '10.00' }],
      [
        { entryId: '10', dueDate: '2026-02-01', open: '10.00' },
        { entryId: '9', dueDate: '2026-02-01', open: '10.00' },
      ],
    );
    expect(rows).toEqual([{ creditEntryId: '1', debitEntryId: '9', amount: '10' }]);
    expect(compareEntryIds('9', '10')).toBeLessThan(0);
  });

  it('allocates nothing without credit or without an open item, and ignores items with nothing open', () => {
    expect(allocateOldestFirst([], [{ entryId: '1', dueDate: '2026-01-01', open: '5.00' }])).toEqual([]);
    expect(allocateOldestFirst([{ entryId: '1', bookingDate: '2026-01-01', open: '5.00' }], [])).toEqual([]);
    expect(
      allocateOldestFirst(
        [{ entryId: '1', bookingDate: '2026-01-01', open: '0.00' }, { entryId: '2', bookingDate: '2026-01-02', open: '4.00' }],
        [{ entryId: '8', dueDate: '2026-01-01', open: '0' }, { entryId: '9', dueDate: '2026-01-02', open: '2.50' }],
      ),
    ).toEqual([{ creditEntryId: '2', debitEntryId: '9', amount: '2.5' }]);
  });

  it('handles amounts of four places exactly', () => {
    // 0.1 + 0.2 as binary floats is 0.30000000000000004; as decimals it settles 0.3000 exactly
    const rows = allocateOldestFirst(
      [{ entryId: '1', bookingDate: '2026-01-01', open: '0.1' }, { entryId: '2', bookingDate: '2026-01-02', open: '0.2' }],
      [{ entryId: '3', dueDate: '2026-01-01', open: '0.3000' }],
    );
    expect(rows).toEqual([
      { creditEntryId: '1', debitEntryId: '3', amount: '0.1' },
      { creditEntryId: '2', debitEntryId: '3', amount: '0.2' },
    ]);
  });
});

describe('allocateTo', () => {
  it('spends no more than asked: credit applied at issue 30.00 of credits 25.00 and 40.00', () => {
    expect(
      allocateTo(
        [{ entryId: '2', bookingDate: '2026-01-02', open: '40.00' }, { entryId: '1', bookingDate: '2026-01-01', open: '25.00' }],
        '7',
        '30.00',
      ),
    ).toEqual([
      { creditEntryId: '1', debitEntryId: '7', amount: '25' },
      { creditEntryId: '2', debitEntryId: '7', amount: '5' },
    ]);
  });
});

describe('invoiceSettlement', () => {
  it.each([
    ['119.00', '0', 'OPEN', '119'],
    ['119.00', '80.00', 'PARTIAL', '39'],
    ['119.00', '119.0000', 'PAID', '0'],
    ['-20.00', '0', 'PAID', '0'],
    ['0.00', '0', 'PAID', '0'],
  ])('gross %s with %s allocated is %s, %s open', (gross, allocated, status, open) => {
    expect(invoiceSettlement(gross, allocated)).toEqual({ status, open });
  });
});
