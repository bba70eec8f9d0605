/**
 * An index of the proto files the server exposes through reflection: files by name, the file that
 * declares each symbol, and extensions by extendee. Built once from the generated descriptors.
 */
import { toBinary, type DescEnum, type DescExtension, type DescFile, type DescMessage } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';

export class DescriptorIndex {
  private readonly files = new Map<string, DescFile>();
  private readonly symbols = new Map<string, DescFile>();
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
    if (this.files.has(file.name + '.proto')) return;
    this.files.set(file.name + '.proto', file);
    for (const dependency of file.dependencies) this.add(dependency);
    for (const service of file.services) {
      this.symbols.set(service.typeName, file);
      for (const method of service.methods) this.symbols.set(`${service.typeName}.${method.name}`, file);
    }
    const addEnum = (e: DescEnum) => this.symbols.set(e.typeName, file);
    const addExtension = (x: DescExtension) => {
      this.symbols.set(x.typeName, file);
      const byNumber = this.extensions.get(x.extendee.typeName) ?? new Map<number, DescFile>();
      byNumber.set(x.number, file);
      this.extensions.set(x.extendee.typeName, byNumber);
    };
    const addMessage = (m: DescMessage) => {
      this.symbols.set(m.typeName, file);
      for (const field of m.fields) this.symbols.set(`${m.typeName}.${field.name}`, file);
      m.nestedMessages.forEach(addMessage);
      m.nestedEnums.forEach(addEnum);
      m.nestedExtensions.forEach(addExtension);
    };
    file.messages.forEach(addMessage);
    file.enums.forEach(addEnum);
    file.extensions.forEach(addExtension);
  }

  fileByName(name: string): DescFile | undefined {
    return this.files.get(name);
  }

  fileContainingSymbol(symbol: string): DescFile | undefined {
    return this.symbols.get(symbol.replace(/^\./, ''));
  }

  fileContainingExtension(extendee: string, number: number): DescFile | undefined {
    return this.extensions.get(extendee.replace(/^\./, ''))?.get(number);
  }

  extensionNumbersOf(extendee: string): number[] | undefined {
    const byNumber = this.extensions.get(extendee.replace(/^\./, ''));
    return byNumber ? [...byNumber.keys()].sort((a, b) => a - b) : undefined;
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
