/**
 * Checks every request, whatever its protocol, before a handler sees it: each
 * google.protobuf.Timestamp and Duration in it (nested, repeated, in maps, in oneofs) must lie in
 * the range its proto documentation gives, the range proto3 JSON can encode. Binary protobuf
 * carries any int64 seconds and int32 nanos, and one such value stored by an engine would make
 * every later JSON answer that contains it fail. Errors name the field path (`samples[3].time`).
 */
import type { DescField, DescMessage, Message } from '@bufbuild/protobuf';
import { reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import type { Duration, Timestamp } from '@bufbuild/protobuf/wkt';
import { invalidArgument } from '../../core/errors.js';
import { messageOf, reachesType } from './message-reach.js';
import { durationProblem, timestampProblem } from './well-known.js';

const TIMESTAMP = 'google.protobuf.Timestamp';
const DURATION = 'google.protobuf.Duration';

/** The message fields of each type through which a Timestamp or Duration can be reached. */
const plans = new Map<DescMessage, readonly DescField[]>();

function isChecked(desc: DescMessage): boolean {
  return desc.typeName === TIMESTAMP || desc.typeName === DURATION;
}

function planOf(desc: DescMessage): readonly DescField[] {
  let plan = plans.get(desc);
  if (!plan) {
    plan = desc.fields.filter((f) => {
      const m = messageOf(f);
      return m !== undefined && reachesType(m, isChecked);
    });
    plans.set(desc, plan);
  }
  return plan;
}

function checkValue(r: ReflectMessage, path: string): void {
  const typeName = r.desc.typeName;
  if (typeName === TIMESTAMP) {
    const problem = timestampProblem(r.message as Timestamp);
    if (problem) throw invalidArgument(path, problem);
    return;
  }
  if (typeName === DURATION) {
    const problem = durationProblem(r.message as Duration);
    if (problem) throw invalidArgument(path, problem);
    return;
  }
  walk(r, path);
}

function walk(r: ReflectMessage, prefix: string): void {
  for (const f of planOf(r.desc)) {
    if (!r.isSet(f)) continue;
    const path = prefix ? `${prefix}.${f.name}` : f.name;
    switch (f.fieldKind) {
      case 'message':
        checkValue(r.get(f), path);
        break;
      case 'list': {
        let i = 0;
        for (const item of r.get(f)) checkValue(item as ReflectMessage, `${path}[${i++}]`);
        break;
      }
      case 'map':
        for (const [key, value] of r.get(f)) checkValue(value as ReflectMessage, `${path}.${String(key)}`);
        break;
    }
  }
}

/** Throws invalid_argument naming the field when a request holds a value its type cannot hold. */
export function validateRequest(schema: DescMessage, message: Message): void {
  if (planOf(schema).length === 0 && !isChecked(schema)) return;
  checkValue(reflect(schema, message), '');
}
