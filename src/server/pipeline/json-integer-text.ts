/**
 * Integers given as JSON strings that are not integers. Proto3 JSON gives an integer as a number or
 * as a number in quotes (64-bit ones are written as decimal strings; exponent notation is allowed
 * quoted or not, and Go's protojson takes it); protobuf-es reads the string with Number() or
 * BigInt(), which also take "0x10" as 16, "0b11" as 3, "0o7", "+1", and around a 64-bit one white
 * space (" 5"), and round a fraction in a 32-bit field to the double nearest ("1.0000000000000001"
 * as 1, "4294967294.99999999999" as 4294967295). A typo, another language's literal or a fraction
 * would then be read as some other number without a word; each is refused here, naming the field,
 * as the same number unquoted is (json-number-text.ts). (protobuf-es itself refuses a quoted
 * fraction or exponent in a 64-bit field, "1e3" included, which a 32-bit field takes when it is an
 * integer.)
 */
import { ScalarType, type DescField, type DescMessage, type JsonValue } from '@bufbuild/protobuf';
import { fieldItems, firstInJson, type FieldCheck } from './json-walk.js';

const INTEGERS: ReadonlySet<ScalarType> = new Set([
  ScalarType.INT32,
  ScalarType.UINT32,
  ScalarType.SINT32,
  ScalarType.FIXED32,
  ScalarType.SFIXED32,
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
]);

/** Digits beyond which a number is no integer any field holds: its exact value is not worked out. */
export const MAX_INTEGER_DIGITS = 40;
/** A JSON number's form (leading zeros allowed, as protobuf-es reads "007"). */
const NUMBER = /^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/;
const DIGITS = /^-?[0-9]+$/;

/** The decimal integer a JSON number's text is exactly (2.50e1 is 25), or undefined when it is a fraction, no number, or far beyond any integer field. */
export function exactInteger(token: string): string | undefined {
  const [, sign, whole, fraction = '', exponent = '0'] = NUMBER.exec(token) ?? [];
  if (whole === undefined) return undefined;
  let digits = (whole + fraction).replace(/^0+/, '');
  let shift = Number(exponent) - fraction.length;
  if (digits === '') return '0';
  if (shift < 0) {
    // Trailing zeros of the fraction (2.50e1 is 25).
    const zeros = Math.min(-shift, digits.length - digits.replace(/0+$/, '').length);
    digits = digits.slice(0, digits.length - zeros);
    shift += zeros;
  }
  if (shift < 0 || digits.length + shift > MAX_INTEGER_DIGITS) return undefined;
  return `${sign}${digits}${'0'.repeat(shift)}`;
}

/** Whether a field's values (a single value, a list's items or a map's values) are integers. */
export function holdsIntegers(f: DescField): boolean {
  const scalar = f.fieldKind === 'scalar' || (f.fieldKind === 'list' && f.listKind === 'scalar') || (f.fieldKind === 'map' && f.mapKind === 'scalar');
  return scalar && INTEGERS.has((f as { scalar: ScalarType }).scalar);
}

const nonIntegerText: FieldCheck<{ path: string; field: DescField; text: string }> = {
  holds: holdsIntegers,
  find(f, value, path) {
    if (value === null) return undefined;
    for (const [where, item] of fieldItems(f, value, path)) {
      // Decimal digits, the common case, need no closer look.
      if (typeof item === 'string' && !DIGITS.test(item) && exactInteger(item) === undefined) return { path: where, field: f, text: item };
    }
    return undefined;
  },
};

/** Where an integer string that is not an integer is in `json` (already decoded as `schema`): its path, field and text. */
export function integerTextNotInteger(schema: DescMessage, json: JsonValue): { path: string; field: DescField; text: string } | undefined {
  return firstInJson(nonIntegerText, schema, json);
}
