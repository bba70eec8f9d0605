import { gunzipSync, gzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { invalidArgument } from '../../errors.js';

/** Largest decompressed profile accepted; a bigger one is a zip bomb or not a profile we made. */
export const MAX_DECODED_PROFILE_BYTES = 256 * 1024 * 1024;

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decodes a pprof profile, gzipped (as `go tool pprof` writes them) or raw protobuf. */
export function decodeProfile(bytes: Uint8Array, field = 'profile'): Profile {
  if (bytes.length === 0) throw invalidArgument(field, 'is empty, expected a pprof profile');
  let raw: Uint8Array = bytes;
  if (isGzip(bytes)) {
    try {
      raw = gunzipSync(bytes, { maxOutputLength: MAX_DECODED_PROFILE_BYTES });
    } catch (err) {
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
