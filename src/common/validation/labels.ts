import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';
import { WharfError } from '../errors/wharf-error';
import { labelKeyProblem, labelsProblems, labelValueProblem } from './names';

/** class-validator rule for a labels object (Kubernetes label syntax, at most 64 labels). */
export function IsLabels(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) => {
    registerDecorator({
      name: 'isLabels',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => labelsProblems(value).length === 0,
        defaultMessage: (args?: ValidationArguments) =>
          labelsProblems(args?.value, args?.property ?? 'labels')
            .map((problem) => `${problem.field}: ${problem.message}`)
            .join('; '),
      },
    });
  };
}

/** A parsed `label` query: `key=value` must match, a bare `key` must be present. */
export interface LabelSelector {
  equals: Record<string, string>;
  exists: string[];
}

export function parseLabelSelector(raw: string | string[] | undefined): LabelSelector {
  const selector: LabelSelector = { equals: {}, exists: [] };
  const terms = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  for (const term of terms.flatMap((value) => value.split(','))) {
    const eq = term.indexOf('=');
    const key = eq >= 0 ? term.slice(0, eq) : term;
    const problem = labelKeyProblem(key) ?? (eq >= 0 ? labelValueProblem(term.slice(eq + 1)) : undefined);
    if (problem) {
      throw new WharfError('validation_failed', `label selector ${JSON.stringify(term)}: ${problem}`, {
        errors: [{ field: 'label', message: problem }],
      });
    }
    if (eq >= 0) selector.equals[key] = term.slice(eq + 1);
    else selector.exists.push(key);
  }
  return selector;
}

/** Adds a label selector to a query over a jsonb labels column. */
export function applyLabelSelector(
  builder: { andWhere(where: string, parameters?: Record<string, unknown>): unknown },
  column: string,
  selector: LabelSelector,
): void {
  if (Object.keys(selector.equals).length) {
    builder.andWhere(`${column} @> CAST(:labelEquals AS jsonb)`, { labelEquals: JSON.stringify(selector.equals) });
  }
  selector.exists.forEach((key, index) => {
    builder.andWhere(`jsonb_exists(${column}, :labelKey${index})`, { [`labelKey${index}`]: key });
  });
}
