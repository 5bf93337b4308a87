import { formatQuantity, parseQuantity as parseKubernetesQuantity, QuantityError, type QuantityUnit } from '../../../kube-runtime/quantity';
import { WharfError } from '../errors/wharf-error';

/**
 * Quota fields as Kubernetes quantities (`500m`, `8`, `64Gi`, `1.5G`, `2e3`) in an integer count
 * of a base unit: millicores for cpu, bytes for memory and storage, devices for gpus. The rules
 * are the shared parser's (kube-runtime/quantity.ts, the node agent reads its byte sizes with
 * it too); this adapter only turns its refusals into the API's validation problem.
 */
export { formatQuantity, type QuantityUnit };

function problem(field: string, message: string): WharfError {
  return new WharfError('validation_failed', `${field}: ${message}`, { errors: [{ field, message }] });
}

/**
 * Parses a quantity (a string, or a non-negative integer for plain counts) into base units.
 * Refuses negative values, fractions of the base unit and values beyond 2^53.
 */
export function parseQuantity(field: string, raw: unknown, unit: QuantityUnit): number {
  const text = typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0 ? String(raw) : raw;
  if (typeof text !== 'string') throw problem(field, 'must be a Kubernetes quantity string such as "8", "500m" or "64Gi"');
  try {
    return parseKubernetesQuantity(text, unit);
  } catch (error) {
    if (error instanceof QuantityError) throw problem(field, error.message);
    throw error;
  }
}
