import { OperationError, type OperationErrorKind } from './errors';

/** One field a refusal names, dotted (`company.iban`, `invoices.RE-2026-000001`), with why. */
export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * A refusal that names its fields itself: several of them (every creditor field that is missing, every
 * invoice a SEPA export skipped), or one under a summary of its own ("item K1 exists already" with
 * `itemNumber: exists already`), which an `OperationError` with a path cannot say since its message is
 * always `path: message`. The fields travel in `details.errors` too, so an activity's failure carries them.
 */
export class FieldProblemsError extends OperationError {
  constructor(
    kind: OperationErrorKind,
    errorKey: string,
    message: string,
    readonly problems: readonly FieldProblem[],
  ) {
    super(kind, errorKey, message, null, { errors: problems });
    this.name = 'FieldProblemsError';
  }
}
