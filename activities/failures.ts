import { ApplicationFailure } from '@temporalio/activity';
import { BillingError } from '../billing/errors';
import { OperationError } from '../operations/errors';

/**
 * Runs an operation for an activity: a refusal of the operation is final (retrying cannot change the
 * answer), so it becomes a non-retryable failure whose type is the error key and whose details name the
 * field; the API turns it back into the same problem document as a direct call.
 */
export async function asActivity<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof OperationError) {
      throw ApplicationFailure.nonRetryable(error.message, error.errorKey, { ...(error.path === null ? {} : { path: error.path }), ...error.details });
    }
    if (error instanceof BillingError) {
      const path = String(error.details.path ?? 'subscription');
      throw ApplicationFailure.nonRetryable(`${path}: ${error.message}`, error.code, { path, ...error.details });
    }
    throw error;
  }
}
