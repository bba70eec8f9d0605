/**
 * Integers given as JSON strings that are not numbers. Proto3 JSON gives an integer as a number or
 * as a number in quotes (64-bit ones are written as decimal strings; exponent notation is allowed
 * quoted or not, and Go's protojson takes it); protobuf-es reads the string with Number() or
 * BigInt(), which also take "0x10" as 16, "0b11" as 3, "0o7", "+1", and around a 64-bit one white
 * space (" 5"). A typo or another language's literal would then be read as some other number
 * without a word; each is refused here, naming the field. (protobuf-es itself refuses a quoted
 * fraction or exponent in a 64-bit field, "1e3" included, which a 32-bit field takes.)
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

/** A JSON number's form (leading zeros allowed, as protobuf-es reads "007"). */
const NUMBER_TEXT = /^-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$/;

/** Whether a field's values (a single value, a list's items or a map's values) are integers. */
export function holdsIntegers(f: DescField): boolean {
  const scalar = f.fieldKind === 'scalar' || (f.fieldKind === 'list' && f.listKind === 'scalar') || (f.fieldKind === 'map' && f.mapKind === 'scalar');
  return scalar && INTEGERS.has((f as { scalar: ScalarType }).scalar);
}

const nonNumberText: FieldCheck<{ path: string; field: DescField; text: string }> = {
  holds: holdsIntegers,
  find(f, value, path) {
    if (value === null) return undefined;
    for (const [where, item] of fieldItems(f, value, path)) if (typeof item === 'string' && !NUMBER_TEXT.test(item)) return { path: where, field: f, text: item };
    return undefined;
  },
};

/** Where an integer string that is not a number is in `json` (already decoded as `schema`): its path, field and text. */
export function integerTextNotNumber(schema: DescMessage, json: JsonValue): { path: string; field: DescField; text: string } | undefined {
  return firstInJson(nonNumberText, schema, json);
}
