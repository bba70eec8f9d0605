/** Walking message types: which fields hold messages, and which types can reach a given type. */
import type { DescField, DescMessage } from '@bufbuild/protobuf';

/** The field a JSON key names: its proto name or its JSON name. */
export function findJsonField(schema: DescMessage, key: string): DescField | undefined {
  return schema.fields.find((f) => f.name === key || f.jsonName === key);
}

/** The message type of a field's values, for message fields, lists and maps of messages. */
export function messageOf(f: DescField): DescMessage | undefined {
  if (f.fieldKind === 'message') return f.message;
  if (f.fieldKind === 'list' && f.listKind === 'message') return f.message;
  if (f.fieldKind === 'map' && f.mapKind === 'message') return f.message;
  return undefined;
}

/**
 * Whether a type `isTarget` accepts can be reached from `desc` through message fields, depth
 * first. Other well-known types (Struct, Any, wrappers) hold none of ours, and a type met again on
 * the way (a recursive type) adds nothing new; so only whole results are worth caching.
 */
export function reachesType(desc: DescMessage, isTarget: (desc: DescMessage) => boolean, seen = new Set<DescMessage>()): boolean {
  if (isTarget(desc)) return true;
  if (desc.typeName.startsWith('google.protobuf.') || seen.has(desc)) return false;
  seen.add(desc);
  return desc.fields.some((f) => {
    const m = messageOf(f);
    return m !== undefined && reachesType(m, isTarget, seen);
  });
}
