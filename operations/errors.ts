/**
 * A business operation refused its input or found the books in a state that forbids it. Transports map it
 * once: the API to a problem document (`api/errors.ts`), an activity to a non-retryable Temporal failure
 * (`activities/failures.ts`). `errorKey` is stable and reaches API clients.
 */
export type OperationErrorKind = 'INVALID' | 'UNPROCESSABLE' | 'NOT_FOUND' | 'CONFLICT';

/** One field a refusal names, dotted (`company.iban`, `invoices.RE-2026-000001`), with why. */
export interface FieldProblem {
  path: string;
  message: string;
}

export class OperationError extends Error {
  constructor(
    readonly kind: OperationErrorKind,
    readonly errorKey: string,
    message: string,
    /** The input field at fault, dotted (`subscription.0.itemNumber`), when one is. */
    readonly path: string | null = null,
    readonly details: Record<string, unknown> = {},
  ) {
    super(path === null ? message : `${path}: ${message}`);
    this.name = 'OperationError';
  }

  /** Every field at fault with its own complaint: the one `path`, or those a refusal of several names. */
  get problems(): FieldProblem[] {
    const named = this.details.errors;
    if (Array.isArray(named)) return named as FieldProblem[];
    return this.path === null ? [] : [{ path: this.path, message: this.message.slice(this.path.length + 2) }];
  }

  /**
   * A refusal that names its fields itself: several of them (every creditor field that is missing, every
   * invoice a SEPA export skipped), or one under a summary of its own ("item K1 exists already" with
   * `itemNumber: exists already`). The fields travel in `details.errors`, so an activity's failure carries them.
   */
  static ofFields(kind: OperationErrorKind, errorKey: string, summary: string, problems: readonly FieldProblem[]): OperationError {
    return new OperationError(kind, errorKey, summary, null, { errors: [...problems] });
  }

  /** Input that breaks a rule of the field itself: 400 at the API. */
  static invalid(path: string, message: string, details: Record<string, unknown> = {}): OperationError {
    return new OperationError('INVALID', 'INCORRECT_INPUT_DATA', message, path, details);
  }

  /** Well-formed input that the books refuse (a top-up below the minimum): 422 at the API. */
  static unprocessable(path: string, message: string, errorKey = 'INCORRECT_INPUT_DATA'): OperationError {
    return new OperationError('UNPROCESSABLE', errorKey, message, path);
  }

  static notFound(what: string): OperationError {
    return new OperationError('NOT_FOUND', 'NOT_FOUND', `${what} not found`);
  }

  static conflict(message: string, errorKey = 'CONFLICT', path: string | null = null): OperationError {
    return new OperationError('CONFLICT', errorKey, message, path);
  }
}
