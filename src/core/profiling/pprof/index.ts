/**
 * The profiling engine surface the server wires: pprof encode/decode/validate/merge, V8 CPU and
 * heap capture, continuous profiling and flame graphs.
 */
export { ProfileBuilder } from './builder.js';
export type { FunctionDescriptor, LabelDescriptor, LineDescriptor, MappingDescriptor, ProfileHeader, ValueTypeName } from './builder.js';
export { decodeProfile, encodeProfile, MAX_DECODED_PROFILE_BYTES } from './codec.js';
export type { DecodeOptions } from './codec.js';
export { mergeProfiles } from './merge.js';
export { profileTimes } from './profile-times.js';
export { assertValidProfile, MAX_REPORTED_PROBLEMS, validateProfile } from './validate.js';

export {
  captureCpuProfile,
  DEFAULT_CPU_SAMPLING_INTERVAL_US,
  MAX_CPU_CAPTURE_MS,
  MAX_WAITING_CPU_CAPTURES,
  waitingCpuCaptures,
} from '../v8/cpu-capture.js';
export type { CpuCaptureRequest } from '../v8/cpu-capture.js';
export { cpuProfileDurationMs, DEFAULT_CPU_PROFILE_SECONDS, DEFAULT_MAX_CPU_PROFILE_SECONDS, secondsOverMaximum } from '../v8/cpu-duration.js';
export type { CpuDurationLimits } from '../v8/cpu-duration.js';
export { DEFAULT_HEAP_SAMPLING_INTERVAL_BYTES, HeapSampler } from '../v8/heap-sampler.js';
export type { HeapSamplerOptions } from '../v8/heap-sampler.js';

export { ContinuousProfiler, DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, MAX_WAITING_MERGES } from '../continuous/continuous-profiler.js';
export type {
  ContinuousProfilerOptions,
  ContinuousProfilerStats,
  CpuCaptureFunction,
  MergedProfile,
  ProfileListQuery,
  ProfileRange,
} from '../continuous/continuous-profiler.js';
export { DEFAULT_CONTINUOUS_PROFILING, resolveContinuousProfilingConfig } from '../continuous/config.js';
export type { ContinuousProfilingConfig } from '../continuous/config.js';
export type { StoredProfile, StoredProfileInfo } from '../continuous/profile-store.js';

export { renderFlameGraphSvg } from '../flamegraph/svg.js';
export type { FlameGraphOptions } from '../flamegraph/svg.js';
