import { gunzipSync, gzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { invalidArgument } from '../../errors.js';

/** Largest decompressed profile accepted; a bigger one is a zip bomb or not a profile we made. */
const MAX_DECODED_PROFILE_BYTES = 256 * 1024 * 1024;

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export interface DecodeOptions {
  /** Request field named in errors. */
  field?: string;
  maxDecodedBytes?: number;
}

/** Decodes a pprof profile, gzipped (as `go tool pprof` writes them) or raw protobuf. */
export function decodeProfile(bytes: Uint8Array, options: DecodeOptions = {}): Profile {
  const field = options.field ?? 'profile';
  const maxDecodedBytes = options.maxDecodedBytes ?? MAX_DECODED_PROFILE_BYTES;
  if (bytes.length === 0) throw invalidArgument(field, 'is empty, expected a pprof profile');
  if (bytes.length > maxDecodedBytes) throw invalidArgument(field, `is larger than ${maxDecodedBytes} bytes`);
  let raw: Uint8Array = bytes;
  if (isGzip(bytes)) {
    try {
      raw = gunzipSync(bytes, { maxOutputLength: maxDecodedBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw invalidArgument(field, `decompresses to more than ${maxDecodedBytes} bytes`);
      }
      throw invalidArgument(field, `is not valid gzip: ${(err as Error).message}`);
    }
  }
  try {
    return Profile.decode(raw);
  } catch (err) {
    throw invalidArgument(field, `is not a pprof protobuf: ${(err as Error).message}`);
  }
}

/** Encodes a profile as gzipped protobuf, the form pprof tools and profile stores exchange. */
export function encodeProfile(profile: Profile): Uint8Array {
  return new Uint8Array(gzipSync(profile.encode()));
}
