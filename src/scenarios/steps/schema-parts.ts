/**
 * Building blocks of the scenario JSON Schema (draft-07), shared by ../schema.ts and the step
 * modules' fragments. No node imports here.
 */

export const DURATION_PATTERN = '^\\s*\\d+(\\.\\d+)?(ms|s|m)?\\s*$';
export const OP = '(<=|>=|==|!=|=|<|>)?\\s*';
export const NUM = '(\\d+(\\.\\d+)?|\\.\\d+)';

export const ref = (name: string) => ({ $ref: `#/definitions/${name}` });

export function threshold(description: string, pattern: string, examples: (string | number)[], numberRange: Record<string, unknown> = {}) {
  return {
    description,
    anyOf: [
      { type: 'number', minimum: 0, ...numberRange, description: 'A bare value means "equal to".' },
      { type: 'string', pattern, description: 'An operator (<, <=, ==, >=, >, !=) and a value.' },
    ],
    examples,
  };
}

export const countThreshold = (what: string, examples: (string | number)[]) =>
  threshold(`${what} A whole number, or an operator and one: 0, ">= 1", "<= 2".`, `^\\s*${OP}\\d+\\s*$`, examples, { multipleOf: 1 });
export const msThreshold = (what: string, examples: string[]) =>
  threshold(`${what} Milliseconds (a bare number), or with a unit: "<= 1500ms", "< 3s", "<= 1m".`, `^\\s*${OP}${NUM}\\s*(ms|s|m)?\\s*$`, examples);

export const stepObject = (key: string, description: string, value: object, examples?: unknown[]) => ({
  type: 'object',
  description,
  properties: { [key]: { description, ...value } },
  required: [key],
  additionalProperties: false,
  ...(examples ? { examples } : {}),
});
