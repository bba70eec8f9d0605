/**
 * An index of the proto files the server exposes through reflection: files by name, the file that
 * declares each symbol, and extensions by extendee. Built once from the generated descriptors.
 *
 * Symbols are every name protobuf's scoping rules give a declaration, the names a reference server
 * (grpc-go, through protoregistry) resolves: services and methods, messages (map entries included),
 * fields, oneofs, enums, enum values and extensions. It walks the FileDescriptorProtos rather than
 * the runtime descriptors, which leave out map entries.
 */
import { toBinary, type DescFile } from '@bufbuild/protobuf';
import {
  FileDescriptorProtoSchema,
  type DescriptorProto,
  type EnumDescriptorProto,
  type FieldDescriptorProto,
} from '@bufbuild/protobuf/wkt';

const qualify = (scope: string, name: string) => (scope === '' ? name : `${scope}.${name}`);
const withoutLeadingDot = (name: string) => name.replace(/^\./, '');

export class DescriptorIndex {
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();
  private readonly messages = new Set<string>();
  private readonly extensions = new Map<string, Map<number, DescFile>>();
  private readonly encoded = new Map<DescFile, Uint8Array>();
  readonly serviceNames: string[] = [];

  constructor(roots: Iterable<DescFile>) {
    for (const file of roots) this.add(file);
    for (const file of this.files.values()) {
      for (const service of file.services) {
        if (!this.serviceNames.includes(service.typeName)) this.serviceNames.push(service.typeName);
      }
    }
    this.serviceNames.sort();
  }

  private add(file: DescFile): void {
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    for (const dependency of file.dependencies) this.add(dependency);
    const declare = (name: string) => this.symbols.set(name, file);
    // An enum's values are its siblings, not its children: ANOMALY_SEVERITY_HIGH is
    // rs3gw.observability.v1.ANOMALY_SEVERITY_HIGH, and HealthCheckResponse.ServingStatus's
    // SERVING is grpc.health.v1.HealthCheckResponse.SERVING.
    const addEnum = (scope: string, e: EnumDescriptorProto) => {
      declare(qualify(scope, e.name));
      for (const value of e.value) declare(qualify(scope, value.name));
    };
    const addExtension = (scope: string, x: FieldDescriptorProto) => {
      declare(qualify(scope, x.name));
      const extendee = withoutLeadingDot(x.extendee);
      const byNumber = this.extensions.get(extendee) ?? new Map<number, DescFile>();
      byNumber.set(x.number, file);
      this.extensions.set(extendee, byNumber);
    };
    const addMessage = (scope: string, m: DescriptorProto) => {
      const name = qualify(scope, m.name);
      declare(name);
      this.messages.add(name);
      for (const field of m.field) declare(qualify(name, field.name));
      for (const oneof of m.oneofDecl) declare(qualify(name, oneof.name));
      for (const nested of m.nestedType) addMessage(name, nested);
      for (const e of m.enumType) addEnum(name, e);
      for (const x of m.extension) addExtension(name, x);
    };
    const { proto } = file;
    for (const service of proto.service) {
      const name = qualify(proto.package, service.name);
      declare(name);
      for (const method of service.method) declare(qualify(name, method.name));
    }
    for (const m of proto.messageType) addMessage(proto.package, m);
    for (const e of proto.enumType) addEnum(proto.package, e);
    for (const x of proto.extension) addExtension(proto.package, x);
  }

  fileByName(name: string): DescFile | undefined {
    return this.files.get(name);
  }

  fileContainingSymbol(symbol: string): DescFile | undefined {
    return this.symbols.get(withoutLeadingDot(symbol));
  }

  fileContainingExtension(extendee: string, number: number): DescFile | undefined {
    return this.extensions.get(withoutLeadingDot(extendee))?.get(number);
  }

  /** The extension numbers of a known message (none is an empty list); undefined for an unknown type. */
  extensionNumbersOf(extendee: string): number[] | undefined {
    const name = withoutLeadingDot(extendee);
    if (!this.messages.has(name)) return undefined;
    return [...(this.extensions.get(name)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** The file and every file it depends on, transitively, encoded as FileDescriptorProto. */
  withDependencies(file: DescFile): Uint8Array[] {
    const out: Uint8Array[] = [];
    const seen = new Set<DescFile>();
    const visit = (f: DescFile) => {
      if (seen.has(f)) return;
      seen.add(f);
      out.push(this.encode(f));
      f.dependencies.forEach(visit);
    };
    visit(file);
    return out;
  }

  private encode(file: DescFile): Uint8Array {
    let bytes = this.encoded.get(file);
    if (!bytes) {
      bytes = toBinary(FileDescriptorProtoSchema, file.proto);
      this.encoded.set(file, bytes);
    }
    return bytes;
  }
}
