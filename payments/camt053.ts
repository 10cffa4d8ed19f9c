import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { decimal } from '../billing/money';
import {
  checkedAmount,
  checkedDate,
  normalizeIban,
  sha256,
  StatementFormatError,
  type IncomingPayment,
  type IncomingReturn,
  type ParsedStatement,
  type SkippedEntry,
  type StatementFormat,
} from './statement';

/**
 * Reads an ISO 20022 bank-to-customer statement (camt.053, versions .001.02 and .001.08) into incoming
 * payments, without I/O.
 *
 * - Every value stays text: the parser converts no numbers, so `100.10` reaches the books as "100.10".
 * - Only booked (`Sts` BOOK) credit entries (`CdtDbtInd` CRDT) that are not reversals are payments; debit,
 *   pending and reversal entries come back as skipped with the reason.
 * - A booked debit entry whose transactions carry return information (`RtrInf`) is a returned direct debit
 *   (Rücklastschrift): one return per transaction with `RtrInf`, with its reason code, the collection's
 *   end-to-end id and mandate, and the bank's charges (`Chrgs`: in .001.02 `Amt` or `TtlChrgsAndTaxAmt`,
 *   in .001.08 `TtlChrgsAndTaxAmt` or the `Rcrd` amounts), read from the transaction, else from the entry
 *   (then charged once, with the entry's first return). A return is keyed like a payment.
 * - An entry that carries several transactions (a batch booking) becomes one payment per transaction when
 *   every transaction states its amount and they add up to the entry; otherwise the entry is one payment.
 * - The business key of a payment is the bank's reference: the transaction's or entry's AcctSvcrRef
 *   (unique per account at the servicing bank), else the entry's NtryRef within its statement, else a hash
 *   of the statement id, the entry's position and its fields. Importing the same file again yields the
 *   same keys.
 */

const NAMESPACE_FORMATS: Record<string, StatementFormat> = {
  'urn:iso:std:iso:20022:tech:xsd:camt.053.001.02': 'camt.053.001.02',
  'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08': 'camt.053.001.08',
};

const REPEATED = new Set(['Stmt', 'Ntry', 'NtryDtls', 'TxDtls', 'Ustrd', 'Strd', 'Bal', 'Chrgs', 'Rcrd', 'RtrInf']);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  htmlEntities: false,
  isArray: (name, _path, _leaf, isAttribute) => !isAttribute && REPEATED.has(name),
});

type Node = Record<string, unknown>;

export function parseCamt053(xml: string): ParsedStatement {
  const content = xml.startsWith('\uFEFF') ? xml.slice(1) : xml;
  const valid = XMLValidator.validate(content);
  if (valid !== true) {
    throw new StatementFormatError(`line ${valid.err.line}`, `not well-formed XML: ${valid.err.msg}`);
  }
  // camt.053 has no DTD: a DOCTYPE could only declare entities, external or exponentially expanding ones.
  if (/<!DOCTYPE/i.test(content)) throw new StatementFormatError('(file)', 'a DOCTYPE is not allowed in a bank statement');
  let root: Node;
  try {
    root = parser.parse(content) as Node;
  } catch (error) {
    throw new StatementFormatError('(file)', `not a readable XML document: ${error instanceof Error ? error.message : String(error)}`);
  }
  const document = child(root, 'Document');
  if (!document) throw new StatementFormatError('(file)', 'no Document element; a camt.053 statement is expected');
  // The parser drops namespace declarations along with the prefixes, so the version is read from the tag.
  const namespace = /<(?:[\w.-]+:)?Document\b[^>]*?\sxmlns(?::[\w.-]+)?\s*=\s*["']([^"']+)["']/.exec(content)?.[1] ?? '';
  const format = NAMESPACE_FORMATS[namespace];
  if (!format) {
    throw new StatementFormatError('Document', `namespace "${namespace}" is not camt.053.001.02 or camt.053.001.08`);
  }
  const message = child(document, 'BkToCstmrStmt');
  if (!message) throw new StatementFormatError('Document', 'no BkToCstmrStmt element');
  const messageId = bounded('GrpHdr.MsgId', text(child(child(message, 'GrpHdr'), 'MsgId')));
  const statements = list(message, 'Stmt');
  if (statements.length === 0) throw new StatementFormatError('BkToCstmrStmt', 'holds no Stmt');

  const payments: IncomingPayment[] = [];
  const returns: IncomingReturn[] = [];
  const skipped: SkippedEntry[] = [];
  let firstIban: string | null = null;
  statements.forEach((statement, statementIndex) => {
    const path = `Stmt[${statementIndex}]`;
    const statementId = bounded(`${path}.Id`, text(child(statement, 'Id')));
    if (!statementId) throw new StatementFormatError(`${path}.Id`, 'is missing');
    const accountId = child(child(statement, 'Acct'), 'Id');
    const iban = bounded(`${path}.Acct.Id`, normalizeIban(text(child(accountId, 'IBAN'))) ?? text(child(child(accountId, 'Othr'), 'Id')));
    if (!iban) throw new StatementFormatError(`${path}.Acct.Id`, 'names no account');
    firstIban ??= iban;
    list(statement, 'Ntry').forEach((entry, entryIndex) => {
      readEntry(entry, { path: `${path}.Ntry[${entryIndex}]`, position: `Stmt ${statementIndex + 1} / Ntry ${entryIndex + 1}`, statementId, iban, entryIndex }, { payments, returns, skipped });
    });
  });
  return { format, statementKey: `camt:${firstIban}:${messageId ?? sha256(content)}`, messageId: messageId ?? null, accountIban: firstIban, payments, returns, skipped };
}

interface EntryContext {
  path: string;
  position: string;
  statementId: string;
  iban: string;
  entryIndex: number;
}

interface Readings {
  payments: IncomingPayment[];
  returns: IncomingReturn[];
  skipped: SkippedEntry[];
}

function readEntry(entry: Node, context: EntryContext, { payments, returns, skipped }: Readings): void {
  const { path, position } = context;
  const amountNode = child(entry, 'Amt');
  const currency = attribute(amountNode, 'Ccy') ?? '';
  const amount = checkedAmount(`${path}.Amt`, text(amountNode) ?? '', currency);
  const direction = text(child(entry, 'CdtDbtInd'));
  if (direction !== 'CRDT' && direction !== 'DBIT') throw new StatementFormatError(`${path}.CdtDbtInd`, 'must be CRDT or DBIT');
  const statusNode = entry.Sts;
  const status = typeof statusNode === 'object' ? text(child(statusNode as Node, 'Cd')) ?? text(child(statusNode as Node, 'Prtry')) : text(statusNode);
  const reversal = text(child(entry, 'RvslInd')) === 'true';

  const transactions = list(entry, 'NtryDtls').flatMap((details) => list(details, 'TxDtls'));
  const isReturn = direction === 'DBIT' && transactions.some((transaction) => list(transaction, 'RtrInf').length > 0);
  if (direction === 'DBIT' && !isReturn) return void skipped.push({ position, amount, currency, reason: 'outgoing payment (DBIT)' });
  if (status !== 'BOOK') return void skipped.push({ position, amount, currency, reason: `not booked (status ${status ?? 'missing'})` });
  // a bank may mark a return as the reversal of the collection's credit: it is a return all the same
  if (isReturn) return readReturns(entry, context, { amount, currency, transactions }, { returns, skipped });
  if (reversal) return void skipped.push({ position, amount, currency, reason: 'reversal of an earlier debit (RvslInd)' });

  const bookingDate = readDate(entry, 'BookgDt', path) ?? readDate(entry, 'ValDt', path);
  if (!bookingDate) throw new StatementFormatError(`${path}.BookgDt`, 'is missing');
  const valueDate = readDate(entry, 'ValDt', path);
  const entryBankReference = bounded(`${path}.AcctSvcrRef`, text(child(entry, 'AcctSvcrRef')));
  const entryReference = bounded(`${path}.NtryRef`, text(child(entry, 'NtryRef')));

  const transactionAmounts = transactions.map((transaction, index) => {
    const node = child(transaction, 'Amt') ?? child(child(child(transaction, 'AmtDtls'), 'TxAmt'), 'Amt');
    if (!node) return null;
    const transactionCurrency = attribute(node, 'Ccy') ?? '';
    return { amount: checkedAmount(`${path}.NtryDtls.TxDtls[${index}].Amt`, text(node) ?? '', transactionCurrency), currency: transactionCurrency };
  });
  const splits =
    transactions.length > 1 &&
    transactionAmounts.every((part) => part !== null && part.currency === currency) &&
    sumOf(transactionAmounts.map((part) => part!.amount)) === sumOf([amount]);

  const parts = splits
    ? transactions.map((transaction, index) => ({ transactions: [transaction], amount: transactionAmounts[index]!.amount, index }))
    : [{ transactions, amount, index: null as number | null }];

  for (const part of parts) {
    const first = part.transactions[0];
    const refs = child(first, 'Refs');
    const transactionBankReference = bounded(`${path}.NtryDtls.TxDtls.Refs.AcctSvcrRef`, text(child(refs, 'AcctSvcrRef')));
    const endToEndId = text(child(refs, 'EndToEndId'));
    const parties = child(first, 'RltdPties');
    const debtor = child(parties, 'Dbtr');
    const payerName = text(child(child(debtor, 'Pty'), 'Nm')) ?? text(child(debtor, 'Nm')) ?? text(child(child(child(parties, 'UltmtDbtr'), 'Pty'), 'Nm')) ?? text(child(child(parties, 'UltmtDbtr'), 'Nm'));
    const payerIban = normalizeIban(text(child(child(child(parties, 'DbtrAcct'), 'Id'), 'IBAN')));
    const remittance = part.transactions.flatMap((transaction) => {
      const information = child(transaction, 'RmtInf');
      const unstructured = list(information, 'Ustrd').map((line) => text(line) ?? '');
      const structured = list(information, 'Strd').map((block) => text(child(child(block, 'CdtrRefInf'), 'Ref')) ?? '');
      return [...unstructured, ...structured, text(child(transaction, 'AddtlTxInf')) ?? ''];
    });
    const reference = [...remittance, remittance.every((line) => line === '') ? text(child(entry, 'AddtlNtryInf')) ?? '' : '']
      .filter((line) => line !== '')
      .join(' ');
    const businessKey = paymentKey(context, part.index, {
      entryBankReference,
      transactionBankReference,
      entryReference,
      fields: [part.amount, currency, bookingDate, reference, payerName ?? null, payerIban],
    });
    const bankReference = (part.index === null ? entryBankReference ?? transactionBankReference : transactionBankReference ?? entryBankReference) ?? entryReference;
    payments.push({
      position: part.index === null ? position : `${position} / TxDtls ${part.index + 1}`,
      businessKey,
      bookingDate,
      valueDate,
      amount: part.amount,
      currency,
      reference,
      payerName: payerName ?? null,
      payerIban,
      endToEndId: endToEndId && endToEndId !== 'NOTPROVIDED' ? endToEndId : null,
      bankReference: bankReference ?? null,
    });
  }
}

/**
 * The returns of a booked debit entry: one per transaction that carries `RtrInf`. The amount returned is
 * the collection's: the transaction's instructed amount (`AmtDtls/InstdAmt`) when given, else its amount,
 * else (one transaction) the entry's; charges the bank says it included (`ChrgInclInd`) are taken out of an
 * amount that is not the instructed one. A transaction without `RtrInf` in such an entry is reported as skipped.
 */
function readReturns(
  entry: Node,
  context: EntryContext,
  booked: { amount: string; currency: string; transactions: Node[] },
  { returns, skipped }: Pick<Readings, 'returns' | 'skipped'>,
): void {
  const { path, position } = context;
  const { currency, transactions } = booked;
  const bookingDate = readDate(entry, 'BookgDt', path) ?? readDate(entry, 'ValDt', path);
  if (!bookingDate) throw new StatementFormatError(`${path}.BookgDt`, 'is missing');
  const entryBankReference = bounded(`${path}.AcctSvcrRef`, text(child(entry, 'AcctSvcrRef')));
  const entryReference = bounded(`${path}.NtryRef`, text(child(entry, 'NtryRef')));
  const entryCharges = readCharges(entry, `${path}.Chrgs`, currency);
  const transactionsCarryCharges = transactions.some((transaction) => list(transaction, 'Chrgs').length > 0);
  const single = transactions.length === 1;
  let entryChargesTaken = transactionsCarryCharges;

  transactions.forEach((transaction, index) => {
    const where = `${path}.NtryDtls.TxDtls[${index}]`;
    const information = list(transaction, 'RtrInf')[0];
    if (!information) {
      const stated = amountOf(child(transaction, 'Amt') ?? child(child(child(transaction, 'AmtDtls'), 'TxAmt'), 'Amt'), `${where}.Amt`);
      skipped.push({ position: `${position} / TxDtls ${index + 1}`, amount: stated?.amount ?? booked.amount, currency, reason: 'outgoing payment (DBIT) beside returns, without return information' });
      return;
    }
    const charges = transactionsCarryCharges ? readCharges(transaction, `${where}.Chrgs`, currency) : entryChargesTaken ? NO_CHARGES : entryCharges;
    entryChargesTaken = true;
    const details = child(transaction, 'AmtDtls');
    const instructed = amountOf(child(child(details, 'InstdAmt'), 'Amt'), `${where}.AmtDtls.InstdAmt.Amt`);
    const stated = amountOf(child(transaction, 'Amt') ?? child(child(details, 'TxAmt'), 'Amt'), `${where}.Amt`) ?? (single ? { amount: booked.amount, currency } : null);
    if (!instructed && !stated) throw new StatementFormatError(`${where}.Amt`, 'a returned transaction in an entry of several must state its amount');
    let amount: string;
    if (instructed) {
      amount = instructed.amount;
    } else {
      const returned = decimal(stated!.amount).minus(charges.included);
      if (returned.lte(0)) throw new StatementFormatError(`${where}.Amt`, `the charges included (${charges.included}) are not less than the amount ${stated!.amount}`);
      amount = returned.toFixed();
    }
    const returnCurrency = instructed?.currency ?? stated!.currency;
    if (returnCurrency !== currency) throw new StatementFormatError(`${where}.Amt`, `currency ${returnCurrency} differs from the entry's ${currency}`);

    const refs = child(transaction, 'Refs');
    const endToEndId = bounded(`${where}.Refs.EndToEndId`, text(child(refs, 'EndToEndId')));
    const mandateReference = bounded(`${where}.Refs.MndtId`, text(child(refs, 'MndtId')));
    const transactionBankReference = bounded(`${where}.Refs.AcctSvcrRef`, text(child(refs, 'AcctSvcrRef')));
    const reason = child(information, 'Rsn');
    const reasonCode = bounded(`${where}.RtrInf.Rsn`, text(child(reason, 'Cd')) ?? text(child(reason, 'Prtry')));
    const additional = list(information, 'AddtlInf').map((line) => text(line) ?? '').filter((line) => line !== '');
    const remittance = list(child(transaction, 'RmtInf'), 'Ustrd').map((line) => text(line) ?? '');
    const reference = [...remittance, text(child(transaction, 'AddtlTxInf')) ?? ''].filter((line) => line !== '').join(' ');
    const splitIndex = single ? null : index;
    returns.push({
      position: splitIndex === null ? position : `${position} / TxDtls ${index + 1}`,
      businessKey: paymentKey(context, splitIndex, {
        entryBankReference,
        transactionBankReference,
        entryReference,
        fields: ['return', amount, currency, bookingDate, endToEndId ?? null, mandateReference ?? null, reasonCode ?? null],
      }),
      bookingDate,
      amount,
      currency,
      reasonCode: reasonCode ?? null,
      reasonInformation: additional.length > 0 ? additional.join(' ') : null,
      endToEndId: endToEndId && endToEndId !== 'NOTPROVIDED' ? endToEndId : null,
      mandateReference: mandateReference ?? null,
      fee: charges.total,
      reference,
      bankReference: (splitIndex === null ? entryBankReference ?? transactionBankReference : transactionBankReference ?? entryBankReference) ?? entryReference ?? null,
    });
  });
}

interface Charges {
  /** What the bank charged, "0" when nothing. */
  total: string;
  /** The part of it the bank says is included in the booked amount (`ChrgInclInd`). */
  included: string;
}

const NO_CHARGES: Charges = { total: '0', included: '0' };

/**
 * The charges on an entry or a transaction. .001.02 repeats `Chrgs` (each with `TtlChrgsAndTaxAmt` or
 * `Amt`); .001.08 has one `Chrgs` with a `TtlChrgsAndTaxAmt` and `Rcrd` records. A record credited back
 * (`CdtDbtInd` CRDT) lowers the total.
 */
function readCharges(node: Node, path: string, currency: string): Charges {
  let total = decimal('0');
  let included = decimal('0');
  list(node, 'Chrgs').forEach((charges, chargesIndex) => {
    const records = list(charges, 'Rcrd');
    const parts = records.length > 0 ? records : [charges];
    let sumOfParts = decimal('0');
    parts.forEach((part, partIndex) => {
      const where = records.length > 0 ? `${path}[${chargesIndex}].Rcrd[${partIndex}]` : `${path}[${chargesIndex}]`;
      const value = chargeOf(child(part, 'Amt') ?? (records.length > 0 ? undefined : child(part, 'TtlChrgsAndTaxAmt')), `${where}.Amt`, currency);
      if (!value) return;
      const signed = text(child(part, 'CdtDbtInd')) === 'CRDT' ? decimal(value.amount).negated() : decimal(value.amount);
      sumOfParts = sumOfParts.plus(signed);
      if (text(child(part, 'ChrgInclInd')) === 'true') included = included.plus(signed);
    });
    const stated = chargeOf(child(charges, 'TtlChrgsAndTaxAmt'), `${path}[${chargesIndex}].TtlChrgsAndTaxAmt`, currency);
    total = total.plus(records.length > 0 && stated ? decimal(stated.amount) : sumOfParts);
  });
  if (total.isNegative()) throw new StatementFormatError(path, `charges add up to ${total.toFixed()}, less than zero`);
  return { total: total.toFixed(), included: included.toFixed() };
}

/** A charge may be zero (a bank that waives its fee still reports it); otherwise it is checked like an amount. */
function chargeOf(node: Node | undefined, path: string, currency: string): { amount: string; currency: string } | null {
  if (node && /^0+(\.0+)?$/.test(text(node) ?? '')) return { amount: '0', currency: attribute(node, 'Ccy') ?? currency };
  return amountOf(node, path, currency);
}

function amountOf(node: Node | undefined, path: string, expectedCurrency?: string): { amount: string; currency: string } | null {
  if (!node) return null;
  const currency = attribute(node, 'Ccy') ?? '';
  const amount = checkedAmount(path, text(node) ?? '', currency);
  if (expectedCurrency !== undefined && currency !== expectedCurrency) throw new StatementFormatError(path, `currency ${currency} differs from the entry's ${expectedCurrency}`);
  return { amount, currency };
}

/**
 * The bank's reference decides: a transaction's own AcctSvcrRef, else the entry's (with the transaction's
 * position when the entry is split), else the entry's NtryRef within its statement, else a hash of the
 * statement id, the position and the fields.
 */
function paymentKey(
  context: EntryContext,
  splitIndex: number | null,
  references: { entryBankReference?: string; transactionBankReference?: string; entryReference?: string; fields: (string | null)[] },
): string {
  const prefix = `camt:${context.iban}`;
  const position = splitIndex === null ? '' : `:${splitIndex}`;
  const { entryBankReference, transactionBankReference, entryReference } = references;
  if (splitIndex !== null && transactionBankReference) return `${prefix}:ref:${transactionBankReference}`;
  if (entryBankReference) return `${prefix}:ref:${entryBankReference}${position}`;
  if (transactionBankReference) return `${prefix}:ref:${transactionBankReference}`;
  if (entryReference) return `${prefix}:ntry:${context.statementId}:${entryReference}${position}`;
  return `${prefix}:hash:${sha256(context.statementId, context.entryIndex, splitIndex, ...references.fields)}`;
}

function readDate(entry: Node, element: 'BookgDt' | 'ValDt', path: string): string | null {
  const node = child(entry, element);
  if (!node) return null;
  const date = text(child(node, 'Dt')) ?? text(child(node, 'DtTm'))?.slice(0, 10);
  if (!date) return null;
  return checkedDate(`${path}.${element}`, date);
}

/** Identifiers are Max35Text in camt.053 (an IBAN at most 34): they become business keys, so longer ones are refused. */
function bounded(path: string, value: string | null | undefined): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value.length > 35) throw new StatementFormatError(path, `is longer than the 35 characters camt.053 allows`);
  return value;
}

function sumOf(amounts: string[]): string {
  // Compared as decimal text with a fixed scale, so no float is ever involved.
  return amounts
    .map((amount) => BigInt(scaled(amount)))
    .reduce((total, value) => total + value, 0n)
    .toString();
}

function scaled(amount: string): string {
  const [whole, fraction = ''] = amount.split('.');
  return `${whole}${fraction.padEnd(5, '0')}`;
}

function child(node: unknown, name: string): Node | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const value = (node as Node)[name];
  if (Array.isArray(value)) return value[0] as Node | undefined;
  return value as Node | undefined;
}

function list(node: unknown, name: string): Node[] {
  if (!node || typeof node !== 'object') return [];
  const value = (node as Node)[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]) as Node[];
}

function attribute(node: unknown, name: string): string | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const value = (node as Node)[`@${name}`];
  return typeof value === 'string' ? value : undefined;
}

/** The text of an element: a plain string, or `#text` when it carries attributes. */
function text(node: unknown): string | undefined {
  if (typeof node === 'string') return node === '' ? undefined : node;
  if (node && typeof node === 'object' && typeof (node as Node)['#text'] === 'string') {
    const value = (node as Node)['#text'] as string;
    return value === '' ? undefined : value;
  }
  return undefined;
}
