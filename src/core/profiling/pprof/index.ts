/**
 * The profiling engine surface the server wires: pprof encode/decode/validate/merge, V8 CPU and
 * heap capture, continuous profiling and flame graphs.
 */
export { ProfileBuilder } from './builder.js';
export { decodeProfile, encodeProfile } from './codec.js';
export { mergeProfiles } from './merge.js';
export { profileTimes } from './profile-times.js';
export { assertValidProfile, MAX_REPORTED_PROBLEMS, validateProfile } from './validate.js';

export { CpuCaptures, MAX_WAITING_CPU_CAPTURES } from '../v8/cpu-capture.js';
export { cpuProfileDurationMs, DEFAULT_CPU_PROFILE_SECONDS, secondsOverMaximum } from '../v8/cpu-duration.js';
export { HeapSampler } from '../v8/heap-sampler.js';

export { ContinuousProfiler, MAX_WAITING_MERGES } from '../continuous/continuous-profiler.js';
export type { CpuCaptureFunction, MergedProfile } from '../continuous/continuous-profiler.js';
export { DEFAULT_CONTINUOUS_PROFILING } from '../continuous/config.js';
export type { StoredProfileInfo } from '../continuous/profile-store.js';

export { renderFlameGraphSvg } from '../flamegraph/svg.js';
