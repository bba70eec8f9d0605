/**
 * JSON `null` in a number field without presence. Proto3 JSON reads it as the default, 0, but a
 * client rarely means that: `JSON.stringify` writes NaN and ±Infinity as null, so an idle minute's
 * 0/0 average would be recorded as a measured 0 (and a 0 in a series near 1000 is an anomaly), and
 * a byte count computed as NaN would set storage used to 0. It is refused, naming the field, as NaN
 * itself is; a field left out is still 0, as proto3 says.
 */
import { FeatureSet_FieldPresence } from '@bufbuild/protobuf/wkt';
import { ScalarType, type DescField, type DescMessage, type JsonValue } from '@bufbuild/protobuf';
import { invalidArgument, type ObservabilityError } from '../../core/errors.js';
import { firstInJson, type FieldCheck } from './json-walk.js';

const NOT_NUMBERS: ReadonlySet<ScalarType> = new Set([ScalarType.BOOL, ScalarType.STRING, ScalarType.BYTES]);

function isBareNumber(f: DescField): boolean {
  return f.fieldKind === 'scalar' && !NOT_NUMBERS.has(f.scalar) && f.presence === FeatureSet_FieldPresence.IMPLICIT;
}

const nullNumber: FieldCheck<ObservabilityError> = {
  holds: isBareNumber,
  find: (_f, value, path) =>
    value === null ? invalidArgument(path, 'must be a number, got null (JSON writes NaN and Infinity as null; leave the field out for 0)') : undefined,
};

/** The first number field without presence that `json` (already decoded as `schema`) sets to null. */
export function nullNumberError(schema: DescMessage, json: JsonValue): ObservabilityError | undefined {
  return firstInJson(nullNumber, schema, json);
}
