import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';

function stringScalar(name: string, description: string, valid: (s: string) => boolean, expected: string): GraphQLScalarType {
  const check = (v: unknown): string => {
    if (typeof v === 'string' && valid(v)) return v;
    throw new GraphQLError(`${name} must be ${expected}`);
  };
  return new GraphQLScalarType({
    name,
    description,
    serialize: (v) => (typeof v === 'number' ? String(v) : (v as string)),
    parseValue: check,
    parseLiteral: (ast: ValueNode) => {
      if (ast.kind !== Kind.STRING) throw new GraphQLError(`${name} must be ${expected}`, { nodes: ast });
      return check(ast.value);
    },
  });
}

/** Exact decimal as a string (never a binary float), e.g. "1200000.00". */
export const GraphQLDecimal = stringScalar('Decimal', 'Exact decimal number as a string, e.g. "1200000.00".',
  (s) => /^-?\d+(\.\d+)?$/.test(s), 'a decimal number in a string, e.g. "12.50"');

/** Calendar date YYYY-MM-DD. */
export const GraphQLDate = stringScalar('Date', 'Calendar date, YYYY-MM-DD.',
  (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
  'a date YYYY-MM-DD');

/** Instant in ISO 8601 with an offset; the gateway answers in Asia/Shanghai time (+08:00). */
export const GraphQLDateTime = stringScalar('DateTime', 'Instant, ISO 8601 with offset, e.g. 2026-01-05T08:00:00+08:00.',
  (s) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)),
  'an ISO 8601 date-time with an offset, e.g. 2026-01-05T08:00:00+08:00');
