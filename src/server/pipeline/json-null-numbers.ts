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
import { fieldItems, isJsonObject } from './json-walk.js';
import { findJsonField, messageOf, reachesType } from './message-reach.js';

const NOT_NUMBERS: ReadonlySet<ScalarType> = new Set([ScalarType.BOOL, ScalarType.STRING, ScalarType.BYTES]);

function isBareNumber(f: DescField): boolean {
  return f.fieldKind === 'scalar' && !NOT_NUMBERS.has(f.scalar) && f.presence === FeatureSet_FieldPresence.IMPLICIT;
}

const holdsBareNumber = new WeakMap<DescMessage, boolean>();

/** Whether a message type has such a field anywhere below it: most requests need no second look. */
function hasBareNumber(m: DescMessage): boolean {
  let holds = holdsBareNumber.get(m);
  if (holds === undefined) holdsBareNumber.set(m, (holds = reachesType(m, (d) => d.fields.some(isBareNumber))));
  return holds;
}

/** The first number field without presence that `json` (already decoded as `schema`) sets to null. */
export function nullNumberError(schema: DescMessage, json: JsonValue, path = ''): ObservabilityError | undefined {
  if (!isJsonObject(json) || !hasBareNumber(schema)) return undefined;
  for (const [key, value] of Object.entries(json)) {
    const f = findJsonField(schema, key);
    if (!f) continue;
    const here = path ? `${path}.${f.name}` : f.name;
    if (value === null) {
      if (isBareNumber(f)) return invalidArgument(here, 'must be a number, got null (JSON writes NaN and Infinity as null; leave the field out for 0)');
      continue;
    }
    const of = messageOf(f);
    if (!of) continue;
    for (const [where, item] of fieldItems(f, value, here)) {
      const nested = nullNumberError(of, item, where);
      if (nested) return nested;
    }
  }
  return undefined;
}
