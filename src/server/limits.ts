/** The largest message limit the port can apply: Connect takes its readMaxBytes as a uint32. */
export const MAX_MESSAGE_BYTES_LIMIT = 0xffff_ffff;
