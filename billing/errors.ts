/** A rule of the billing domain was violated by the input. `code` is stable and reaches API clients. */
export class BillingError extends Error {
  constructor(
    readonly code: BillingErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'BillingError';
  }
}

export type BillingErrorCode = 'NO_PRICE_FOUND' | 'UNIT_MISMATCH' | 'NO_TAX_RATE' | 'INCORRECT_INPUT_DATA';
